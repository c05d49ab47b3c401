"""Web hall adapter: the self-service portal's and app's analytics SDKs -> canonical events.

Speaks the Segment HTTP Tracking API (``ingress``) so segment-analytics and RudderStack SDKs feed it
unchanged; ``mapper`` turns identify/track/page/screen/group/alias into IdentifiersObserved,
InteractionRecorded, HandoffCreated, OfferPresented and OfferResponded; ``errors`` is the policy.
"""
