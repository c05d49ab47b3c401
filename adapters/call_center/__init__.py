"""The call-center adapter: several sites, one stream, every event tagged with its site.

Three native formats arrive over HTTP (``ingress_http``) and one by file (``ingress_file``):
Amazon Connect contact trace records (``mapper_ctr``), Asterisk ``Master.csv`` CDRs
(``mapper_asterisk``) and Twilio TaskRouter event callbacks (``mapper_taskrouter``). Each format is
parsed into one ``mapper.Call``; ``mapper.call_events`` derives queue wait, service level, abandonment
and transfer once for all of them and builds ``CallCompleted`` + ``InteractionRecorded`` (+
``IdentifiersObserved`` for the caller).
"""
