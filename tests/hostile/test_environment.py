"""What Argo CD (or whoever edits an Application) puts in the environment is input too."""

from __future__ import annotations

import pytest

from bgrender.errors import InvalidInput
from bgrender.intent.env import MAX_ENV_CHARS, options_from_env

from .conftest import assert_refused, render

ISTIO = "networking.istio.io"


@pytest.mark.parametrize(("env", "message"), [
    ({"ARGOCD_APP_PARAMETERS": "[{"}, "ARGOCD_APP_PARAMETERS: is not valid JSON"),
    ({"ARGOCD_APP_PARAMETERS": "[" * 100_000}, "ARGOCD_APP_PARAMETERS: is not valid JSON"),
    ({"ARGOCD_APP_PARAMETERS": '{"name":"x"}'}, "ARGOCD_APP_PARAMETERS: must be a JSON list of parameters"),
    ({"ARGOCD_APP_PARAMETERS": '"null"'}, "ARGOCD_APP_PARAMETERS: must be a JSON list of parameters"),
    ({"ARGOCD_APP_PARAMETERS": '[{"name":"replicas","string":"5"}]'},
     'ARGOCD_APP_PARAMETERS: unknown parameter "replicas": bgrender takes no parameters; set it in bluegreen.yaml'),
    ({"ARGOCD_APP_PARAMETERS": '[{"string":"5"}]'}, "ARGOCD_APP_PARAMETERS: unknown parameter without a name"),
    ({"ARGOCD_APP_PARAMETERS": '[{"name":"' + "p" * 1000 + '"}]'}, 'unknown parameter "' + "p" * 64 + '..."'),
    ({"ARGOCD_APP_PARAMETERS": "[]" + " " * MAX_ENV_CHARS}, f"is longer than {MAX_ENV_CHARS} characters"),
    ({"ARGOCD_APP_NAMESPACE": "Payments"}, "ARGOCD_APP_NAMESPACE: must be a DNS-1123 label"),
    ({"ARGOCD_APP_NAMESPACE": "a" * 64}, "ARGOCD_APP_NAMESPACE: must be a DNS-1123 label"),
    ({"ARGOCD_APP_NAMESPACE": "ns\nkind: Secret"}, "ARGOCD_APP_NAMESPACE: must be a DNS-1123 label"),
    ({"KUBE_API_VERSIONS": "x" * (MAX_ENV_CHARS + 1)}, f"is longer than {MAX_ENV_CHARS} characters"),
    ({"ARGOCD_ENV_BGRENDER_LOG_LEVEL": "verbose"}, "ARGOCD_ENV_BGRENDER_LOG_LEVEL: must be one of"),
])
def test_bad_environment_is_refused(env, message):
    with pytest.raises(InvalidInput) as err:
        options_from_env(env)
    assert any(message in line for line in err.value.lines()), err.value.lines()


@pytest.mark.parametrize("value", ["apps/v1,v1", f"{ISTIO}/v2,{ISTIO}", "," * 10])
def test_a_cluster_without_the_routing_api_is_refused(app, value):
    assert_refused(render(app, env={"KUBE_API_VERSIONS": value}),
                   "KUBE_API_VERSIONS: the destination cluster serves no Istio networking API")


@pytest.mark.parametrize(("value", "api"), [
    (f"{ISTIO}/v1beta1/VirtualService,{ISTIO}/v1alpha3", f"{ISTIO}/v1beta1"),  # the Kind form alone counts
    (f" {ISTIO}/v1alpha3 , apps/v1 ", f"{ISTIO}/v1alpha3"),
    (f"{ISTIO}/v1alpha3,{ISTIO}/v1,{ISTIO}/v1", f"{ISTIO}/v1"),
    ("", f"{ISTIO}/v1"),  # unset or empty: a local preview
])
def test_odd_but_meaningful_api_lists(value, api):
    assert options_from_env({"KUBE_API_VERSIONS": value}).api_version(ISTIO, ("v1", "v1beta1", "v1alpha3")) == api


@pytest.mark.parametrize("value", ["", "null", "[]"])
def test_no_parameters_in_any_form_argocd_sends(value):
    assert options_from_env({"ARGOCD_APP_PARAMETERS": value})


def test_refused_environment_through_the_cli(app):
    result = render(app, env={"ARGOCD_APP_PARAMETERS": '[{"name":"image","string":"evil"}]'})
    assert_refused(result, 'ARGOCD_APP_PARAMETERS: unknown parameter "image"')
