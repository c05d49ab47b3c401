"""No Kafka client of any component can connect in plaintext when TLS is configured (issue #13 case 4, build 7):
every aiokafka producer, consumer and admin client and every faust app in the code is built from the one
translator, ``bus/kafka_client.py`` (``connection_options`` / ``producer_options`` / ``faust_broker_options``), never from connection
arguments of its own. ``bus/stack`` (the local broker's own readiness probe) is the one exception.

The secured-stack test (``test_secured_stack.py``) proves the components that run there; this guard covers every
client in the tree, including the ones a short run does not reach (replays, reports, the legacy relay).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("omnibus", "bus", "adapters", "processors", "demo", "deploy")
EXEMPT = ("bus/stack/",)
CLIENTS = {"AIOKafkaConsumer", "AIOKafkaProducer", "AIOKafkaAdminClient", "AdminClient", "App"}
CONNECTION_ARGUMENTS = {"bootstrap_servers", "security_protocol", "sasl_mechanism", "sasl_plain_username",
                        "sasl_plain_password", "ssl_context", "broker", "broker_credentials"}
TRANSLATOR = ("connection_options(", "producer_options(", "faust_broker_options(", "kafka_connection(")


def client_calls(path: Path) -> list[ast.Call]:
    source = path.read_text()
    tree = ast.parse(source)
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name in CLIENTS and (name != "App" or "import faust" in source):
                calls.append(node)
    return calls


def test_every_kafka_client_is_built_from_the_translator() -> None:
    found, wrong = 0, []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(EXEMPT):
                continue
            calls = client_calls(path)
            source = path.read_text()
            for call in calls:
                found += 1
                own = {keyword.arg for keyword in call.keywords} & CONNECTION_ARGUMENTS
                spread = any(keyword.arg is None for keyword in call.keywords)
                if own or not spread or not any(name in source for name in TRANSLATOR):
                    wrong.append(f"{relative}:{call.lineno} (own arguments {sorted(own)}, ** options {spread})")
    assert found >= 8, f"only {found} clients found: is the scan still looking at the right names?"
    assert not wrong, wrong
