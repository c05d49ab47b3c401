"""The local stack: a real Kafka broker (and a Confluent-compatible schema registry) on free ports.

Java artifacts come from Maven Central through the machine's ``mvn`` and are cached outside the
repository (``~/.cache/omnibus`` or ``$OMNIBUS_STACK_CACHE``). Nothing here uses Docker.
"""

from bus.stack.kafka import KafkaBroker, KafkaStartError
from bus.stack.local import LocalStack, default_state_dir
from bus.stack.maven import MavenError, cache_root
from bus.stack.ports import free_port
from bus.stack.process import StackError
from bus.stack.registry import RegistryUnavailable, SchemaRegistryServer

__all__ = [
    "KafkaBroker",
    "KafkaStartError",
    "LocalStack",
    "MavenError",
    "RegistryUnavailable",
    "SchemaRegistryServer",
    "StackError",
    "cache_root",
    "default_state_dir",
    "free_port",
]
