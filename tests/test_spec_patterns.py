"""spec.matches checks the common patterns without re first: such a check may only accept what
its pattern accepts (the pattern decides everything else), and it accepts the everyday values."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgrender.intent import spec

# The characters these patterns turn on, and some they refuse.
_ALPHABET = "abz09AZ-._/:@!#$%&'*+^`|~ \n" + "é٣"
values = st.one_of(st.text(_ALPHABET, max_size=20), st.text(max_size=8),
                   st.builds(lambda a, b: a + "sha256:" + b, st.text("ab", max_size=2), st.text("0af", min_size=62,
                                                                                                  max_size=66)))


@pytest.mark.parametrize("pattern", list(spec._FAST_CHECKS), ids=lambda p: p[:30])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_fast_check_accepts_only_what_its_pattern_accepts(pattern, data):
    value = data.draw(st.one_of(values, st.from_regex(pattern.removesuffix("$") + r"\Z")))
    full = re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value) is not None
    assert spec._FAST_CHECKS[pattern](value) <= full
    assert spec.matches(pattern, value) == full


@pytest.mark.parametrize(("pattern", "value"), [
    (spec.DNS_LABEL, "gorilla-sfx-demo"), (spec.DNS_SUBDOMAIN, "gorilla-sfx-demo.v1"), (spec.VERSION, "3f9c2e1d"),
    (spec.VERSION, "v1.2.3-rc_1"), (spec.VERSION, "sha256:" + "0a" * 32), (spec.DIGEST_PATTERN, "sha256:" + "f" * 64),
    (spec.LABEL_KEY, "app.kubernetes.io/name"), (spec.LABEL_KEY, "deploy"), (spec.HEADER_NAME, "x-deploy"),
    (spec.IMAGE_REPOSITORY, "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/gorilla-sfx-demo"),
    (spec.IMAGE_REPOSITORY, "localhost:5000/team/web_app__x"), (spec.IMAGE_REPOSITORY, "nginx"),
    (spec.IMAGE_REFERENCE, "registry.example.com/platform/bgrender:0.1.0"), (spec.HTTP_PATH, "/healthz"),
    (spec.GATEWAY_REF, "infra/public"), (spec.GATEWAY_REF, "mesh"), (spec.ROUTE_HOSTNAME, "*.example.com"),
    (spec.ROUTE_HOSTNAME, "api.example.com"), (spec.CONFIG_KEY, "application.yaml"), (spec.CONFIG_KEY, "LOG_FORMAT"),
    (spec.KUBE_API_VERSION, "v1"), (spec.KUBE_API_VERSION, "networking.istio.io/v1beta1"),
    (spec.KIND, "ServiceAccount"), (spec.PORT_NAME, "http"), (spec.PORT_NAME, "grpc-web"),
])
def test_everyday_values_pass_without_re(pattern, value):
    assert spec._FAST_CHECKS[pattern](value)
