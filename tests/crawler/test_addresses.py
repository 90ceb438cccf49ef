"""The address classifier: every special-purpose range, metadata endpoint and spelling, under both settings."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import pytest

from crawler.addresses import IPV4_RANGES, IPV6_RANGES, METADATA_ADDRESSES, Verdict, host_reason, literal_address

NEVER, PRIVATE, PUBLIC = "never", "private", "public"

# (URL, which crawls may fetch it): NEVER = refused even with allow_private_networks, PRIVATE = only with it.
TABLE: list[tuple[str, str]] = [
    # Cloud metadata endpoints, in every spelling a URL parser or libc accepts.
    ("http://169.254.169.254/latest/meta-data/", NEVER),
    ("http://169.254.170.2/v2/credentials", NEVER),
    ("http://169.254.170.23/v1/credentials", NEVER),
    ("http://100.100.100.200/latest/meta-data/", NEVER),
    ("http://192.0.0.192/opc/v1/instance/", NEVER),
    ("http://168.63.129.16/machine?comp=goalstate", NEVER),
    ("http://[fd00:ec2::254]/latest/meta-data/", NEVER),
    ("http://[FD00:EC2::254]/", NEVER),
    ("http://[fd00:ec2::23]/v1/credentials", NEVER),
    ("http://[fd20:ce::254]/computeMetadata/v1/", NEVER),
    ("http://metadata.google.internal/computeMetadata/v1/", NEVER),
    ("http://metadata.google.internal./computeMetadata/v1/", NEVER),
    ("http://METADATA.goog/", NEVER),
    ("http://instance-data/latest/", NEVER),
    ("http://2852039166/", NEVER),
    ("http://0xA9FEA9FE/", NEVER),
    ("http://0251.0376.0251.0376/", NEVER),
    ("http://0xa9.0xfe.0xa9.0xfe/", NEVER),
    ("http://169.254.43518/", NEVER),
    ("http://169.16689662/", NEVER),
    ("http://169.254.169.254./", NEVER),
    # IPv6 forms that reach an IPv4 address: judged by that address, and never opened by allow_private.
    ("http://[::ffff:169.254.169.254]/", NEVER),
    ("http://[::ffff:a9fe:a9fe]/", NEVER),
    ("http://[::ffff:127.0.0.1]/", NEVER),
    ("http://[::ffff:10.0.0.1]/", NEVER),
    ("http://[::127.0.0.1]/", NEVER),
    ("http://[::a9fe:a9fe]/", NEVER),
    ("http://[64:ff9b::a9fe:a9fe]/", NEVER),
    ("http://[64:ff9b::169.254.169.254]/", NEVER),
    ("http://[64:ff9b::7f00:1]/", NEVER),
    ("http://[64:ff9b::6464:64c8]/", NEVER),
    ("http://[64:ff9b:1::a9fe:a9fe]/", NEVER),
    ("http://[64:ff9b:1::808:808]/", NEVER),
    ("http://[2002:a9fe:a9fe::1]/", NEVER),
    ("http://[2002:7f00:1::]/", NEVER),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", NEVER),
    ("http://[2001:0:4136:e378:8000:63bf:5601:5601]/", NEVER),
    # Link-local, unspecified, "this network", shared, IETF, documentation, benchmarking, multicast, reserved.
    ("http://[fe80::1]/", NEVER),
    ("http://[fe80::1%25eth0]/", NEVER),
    ("http://169.254.1.1/", NEVER),
    ("http://0.0.0.0/", NEVER),
    ("http://0/", NEVER),
    ("http://0.1.2.3/", NEVER),
    ("http://[::]/", NEVER),
    ("http://100.64.0.1/", NEVER),
    ("http://100.127.255.254/", NEVER),
    ("http://192.0.0.8/", NEVER),
    ("http://192.0.0.170/", NEVER),
    ("http://192.0.2.1/", NEVER),
    ("http://198.51.100.7/", NEVER),
    ("http://203.0.113.9/", NEVER),
    ("http://198.18.0.1/", NEVER),
    ("http://198.19.255.255/", NEVER),
    ("http://192.88.99.1/", NEVER),
    ("http://192.31.196.1/", NEVER),
    ("http://192.175.48.1/", NEVER),
    ("http://192.52.193.1/", NEVER),
    ("http://224.0.0.1/", NEVER),
    ("http://239.255.255.250/", NEVER),
    ("http://240.0.0.1/", NEVER),
    ("http://255.255.255.255/", NEVER),
    ("http://[ff02::1]/", NEVER),
    ("http://[2001:db8::1]/", NEVER),
    ("http://[3fff::1]/", NEVER),
    ("http://[100::1]/", NEVER),
    ("http://[100:0:0:1::1]/", NEVER),
    ("http://[fec0::1]/", NEVER),
    ("http://[5f00::1]/", NEVER),
    ("http://[2001:10::1]/", NEVER),
    ("http://[2620:4f:8000::1]/", NEVER),
    ("http://[4000::1]/", NEVER),
    # Loopback, RFC 1918 and unique-local: what allow_private_networks opens, in any spelling.
    ("http://127.0.0.1/", PRIVATE),
    ("http://127.1/", PRIVATE),
    ("http://0177.0.0.1/", PRIVATE),
    ("http://2130706433/", PRIVATE),
    ("http://0x7f000001/", PRIVATE),
    ("http://127.0.0.1./", PRIVATE),
    ("http://127.255.255.254/", PRIVATE),
    ("http://10.0.0.8/", PRIVATE),
    ("http://172.16.3.4/", PRIVATE),
    ("http://172.31.255.255/", PRIVATE),
    ("http://192.168.1.1/", PRIVATE),
    ("http://[::1]/", PRIVATE),
    ("http://[0:0:0:0:0:0:0:1]/", PRIVATE),
    ("http://[fd00::1]/", PRIVATE),
    ("http://[fc00::1]/", PRIVATE),
    ("http://[fd00:ec2::1]/", PRIVATE),
    # Public addresses, including mapped/translated forms of public IPv4 and the neighbours of special ranges.
    ("http://93.184.216.34/", PUBLIC),
    ("http://8.8.8.8/", PUBLIC),
    ("http://134744072/", PUBLIC),
    ("http://172.32.0.1/", PUBLIC),
    ("http://100.128.0.1/", PUBLIC),
    ("http://192.0.1.1/", PUBLIC),
    ("http://169.255.0.1/", PUBLIC),
    ("http://[2606:4700:4700::1111]/", PUBLIC),
    ("http://[::ffff:8.8.8.8]/", PUBLIC),
    ("http://[64:ff9b::808:808]/", PUBLIC),
    ("http://[2002:808:808::1]/", PUBLIC),
]


@pytest.mark.parametrize(("url", "kind"), TABLE)
@pytest.mark.parametrize("allow_private", [False, True])
def test_each_address_form_is_refused_or_allowed(url: str, kind: str, allow_private: bool) -> None:
    host = urlsplit(url).hostname or ""
    reason = host_reason(host, allow_private)
    refused = kind == NEVER or (kind == PRIVATE and not allow_private)
    assert (reason is not None) == refused, f"{url} with allow_private={allow_private}: {reason}"


def test_the_table_covers_every_range_and_metadata_address() -> None:
    literals = {literal_address(urlsplit(url).hostname or "") for url, _ in TABLE}
    addresses = {a for a in literals if a is not None}
    for entry in (*IPV4_RANGES, *IPV6_RANGES):
        if entry.verdict is not Verdict.PUBLIC:
            assert any(a in entry.network for a in addresses), f"no table entry in {entry.network} ({entry.name})"
    assert set(METADATA_ADDRESSES) <= addresses


@pytest.mark.parametrize(("host", "address"), [
    ("2852039166", "169.254.169.254"), ("0xA9FEA9FE", "169.254.169.254"), ("0251.0376.0251.0376", "169.254.169.254"),
    ("127.1", "127.0.0.1"), ("10.1.2", "10.1.0.2"), ("0x7f.1", "127.0.0.1"), ("[::1]", "::1"), ("1.2.3.4.", "1.2.3.4"),
])
def test_numeric_spellings_read_as_libc_reads_them(host: str, address: str) -> None:
    assert literal_address(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["example.org", "1.2.3.4.5", "256.1.1.1", "08.1.1.1", "news.1", "1..2"])
def test_names_and_invalid_numbers_are_not_addresses(host: str) -> None:
    assert literal_address(host) is None


def test_refusals_say_what_the_address_is() -> None:
    assert "Alibaba" in (host_reason("100.100.100.200", True) or "")
    assert "169.254.169.254" in (host_reason("[64:ff9b::a9fe:a9fe]", True) or "")
    assert "allow_private_networks is off" in (host_reason("10.0.0.1", False) or "")
