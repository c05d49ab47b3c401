"""The events whose field holds a system's own status word, and the common statuses those words map to.

A card status export (``CardStatusChanged``'s ``card_status``) and an order or field-work export
(``OrderStatusChanged``'s ``status`` and ``previous_status``) write their system's words: English, Spanish and
Portuguese ones are built in (``adapters.base.card_status``, ``ORDER_STATUS_WORDS``), a layout maps its own with
``status_words`` on that field (``Layout.status_words``), and a word none knows is published ``UNKNOWN`` with the word
kept (``source_status``), counted by ``check-layout`` and the import (``adapters.legacy.dropped``):
``executada`` (an executed disconnection) was UNKNOWN, without a word, and shown as an open order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from adapters.base.card_status import CARD_STATUS_FIELD, CARD_STATUS_WORDS
from adapters.base.status_words import common_status, own_status_words
from schemas.enums import CARD_STATUSES, ORDER_STATUSES

NAMESPACE = "omnibus.business"
# An order system's words for an order's status, compared as ``status_words.status_word`` spells them: English, and
# the Portuguese and Spanish words that name one status only. Left out on purpose: ``pendente`` /
# ``pendiente`` (created or confirmed?) and ``suspensa`` / ``suspendida`` (paused or stopped for good?): a layout says
# which (``status_words``).
ORDER_STATUS_WORDS = {
    **dict.fromkeys(("NEW", "OPEN", "ABERTA", "ABERTO", "NOVA", "NOVO", "CRIADA", "CRIADO", "ABIERTA", "ABIERTO",
                     "NUEVA", "NUEVO", "CREADA", "CREADO"), "CREATED"),
    **dict.fromkeys(("ACCEPTED", "CONFIRMADA", "CONFIRMADO", "ACEITA", "ACEITO", "APROVADA", "APROVADO", "ACEPTADA",
                     "ACEPTADO", "APROBADA", "APROBADO"), "CONFIRMED"),
    **dict.fromkeys(("PROCESSING", "ACTIVE", "EM_EXECUCAO", "EM_ANDAMENTO", "EM_CURSO", "EM_PROCESSAMENTO",
                     "EN_CURSO", "EN_PROCESO", "EN_EJECUCION", "EN_TRAMITE"), "IN_PROGRESS"),
    **dict.fromkeys(("DISPATCHED", "ENVIADA", "ENVIADO", "EXPEDIDA", "EXPEDIDO", "DESPACHADA", "DESPACHADO"),
                    "SHIPPED"),
    **dict.fromkeys(("ENTREGUE", "ENTREGADA", "ENTREGADO"), "DELIVERED"),
    **dict.fromkeys(("DONE", "CLOSED", "EXECUTED", "FINISHED", "EXECUTADA", "EXECUTADO", "CONCLUIDA", "CONCLUIDO",
                     "FINALIZADA", "FINALIZADO", "ENCERRADA", "ENCERRADO", "REALIZADA", "REALIZADO", "EJECUTADA",
                     "EJECUTADO", "COMPLETADA", "COMPLETADO", "TERMINADA", "TERMINADO", "CERRADA", "CERRADO"),
                    "COMPLETED"),
    **dict.fromkeys(("CANCELED", "CANCELADA", "CANCELADO", "ANULADA", "ANULADO"), "CANCELLED"),
    **dict.fromkeys(("ERROR", "REJECTED", "FALHOU", "FALHA", "ERRO", "REJEITADA", "REJEITADO", "RECUSADA", "RECUSADO",
                     "FALLIDA", "FALLIDO", "RECHAZADA", "RECHAZADO"), "FAILED"),
}


@dataclass(frozen=True)
class StatusField:
    """The ``field`` of ``event`` (a short name: ``OrderStatusChanged``) holding a system's status word, mapped to
    ``statuses`` (an ``omnibus.business`` enum's symbols) by ``builtin`` words; ``noun`` names the status in
    messages."""

    event: str
    field: str
    noun: str
    statuses: frozenset[str]
    builtin: Mapping[str, str]

    @property
    def schema(self) -> str:
        return f"{NAMESPACE}.{self.event}"

    def own(self, words: Mapping[str, str]) -> dict[str, str]:
        """A layout's ``status_words`` keyed as they are compared; ``ValueError`` for a status not in ``statuses``."""
        return own_status_words(words, self.statuses, self.noun)

    def status(self, raw: str | None, own: Mapping[str, str] | None = None) -> str | None:
        """The common status of ``raw`` (``own`` words first); None for None."""
        return None if raw is None else common_status(raw, self.builtin, self.statuses, own)


CARD_STATUS = StatusField("CardStatusChanged", CARD_STATUS_FIELD, "card", CARD_STATUSES, CARD_STATUS_WORDS)
ORDER_STATUS = StatusField("OrderStatusChanged", "status", "order", ORDER_STATUSES, ORDER_STATUS_WORDS)
STATUS_FIELDS = {owner.event: owner for owner in (CARD_STATUS, ORDER_STATUS)}
