"""``python -m labourwatch.fixtureweb``: serve the fixture news web and print its sources as YAML."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from labourwatch.fixtureweb.sites import default_sites, generate_sites
from labourwatch.fixtureweb.web import FixtureWeb


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m labourwatch.fixtureweb", description=__doc__)
    parser.add_argument("--sites", type=int, help="generate this many sites (default: the four default sites)")
    parser.add_argument("--articles", type=int, default=10, help="articles per generated site (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed for generated sites (default 0)")
    parser.add_argument("--faults", action="store_true", help="also list the fault endpoints as sources")
    parser.add_argument("--fault-delay", type=float, default=5.0, help="seconds /faults/slow.xml waits")
    parser.add_argument("--advance-every", type=float, metavar="SECONDS",
                        help="move to the next state every SECONDS (default: stay in state 0)")
    return parser


def _yaml(sources: list[dict[str, str]]) -> str:
    # JSON strings are valid YAML scalars, which spares a YAML dependency.
    lines = ["sources:"]
    for source in sources:
        first = True
        for key, value in source.items():
            lines.append(f"  {'- ' if first else '  '}{key}: {json.dumps(value, ensure_ascii=False)}")
            first = False
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Start the fixture web, print its sources, advance on a timer if asked, stop on Ctrl-C."""
    args = _parser().parse_args(argv)
    specs = generate_sites(args.sites, args.articles, args.seed) if args.sites else default_sites()
    web = FixtureWeb(specs, fault_delay=args.fault_delay).start()
    sources = web.sources() + (web.fault_sources() if args.faults else [])
    print(f"# fixture news web: {len(specs)} sites, state 0; Ctrl-C to stop", flush=True)
    print(_yaml(sources), end="", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # a clean stop when run by a benchmark harness
    try:
        while not stop.wait(args.advance_every or 3600):
            if args.advance_every:
                change = web.advance()
                print(f"# state {change.state}: {len(change.new)} new, {len(change.edited)} edited", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        web.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
