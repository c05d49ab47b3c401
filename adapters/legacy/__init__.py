"""The legacy-systems adapter: billing, orders and provisioning systems that were never meant to talk.

Three ingresses, one mapper (``mapper.map_business``: a business fact → an ``omnibus.business`` event):

- ``ingress_outbox``: the transactional outbox (``outbox.sql``), published in commit order, at least once;
- ``ingress_poller``: a watermark poller for tables of systems that cannot write an outbox;
- ``ingress_batch``: nightly CSV / fixed-width export files described by a layout file (``layout``),
  resumable after a crash and idempotent when a file is imported twice.
"""
