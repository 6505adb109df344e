"""The seed scenario the way people do it by hand: `az login` twice, then `az vm create --image
<tenant A image version id>` in tenant B, against the emulator registered as a custom cloud.

`az vm create` submits an ARM template deployment (vnet, NSG, public IP, NIC, VM) carrying tenant A's
token as auxiliary, polls it, and reads the VM with its instance view, the NIC and the public IP.
"""

import json
import os
import shutil
import subprocess
import tempfile
import uuid

import pytest
from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.resource import ResourceManagementClient

import jwt_decode
from conftest import APP, SECRET, SOURCE_IMAGE, SSH_KEY, SUB_A, SUB_B, TENANT_A, TENANT_B

SCOPE = "https://management.azure.com/.default"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
AZ = shutil.which("az") or os.path.join(os.path.dirname(os.path.realpath(__file__)), "az")


@pytest.fixture(scope="module")
def az(emulator):
    config = tempfile.mkdtemp(prefix="galleon-az-")
    env = dict(os.environ)
    env.update(
        AZURE_CONFIG_DIR=config,
        AZURE_CORE_INSTANCE_DISCOVERY="false",
        AZURE_CORE_COLLECT_TELEMETRY="false",
        AZURE_CORE_NO_COLOR="true",
        AZURE_CORE_ONLY_SHOW_ERRORS="true",
        REQUESTS_CA_BUNDLE=emulator.ca_file,
    )

    def run(*args, check=True):
        proc = subprocess.run([AZ, *args], env=env, capture_output=True, text=True, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"az {' '.join(args)} failed:\n{proc.stderr}")
        return proc

    run("cloud", "register", "-n", "GalleonEmulator", "--endpoint-resource-manager", emulator.endpoint)
    run("cloud", "set", "-n", "GalleonEmulator")
    return run


def publish_image(emulator):
    """Tenant A publishes a version and grants the app Reader, through the SDK (not under test here)."""
    cred_a = ClientSecretCredential(TENANT_A, APP, SECRET, authority=emulator.endpoint, disable_instance_discovery=True)
    kw = dict(base_url=emulator.endpoint, credential_scopes=[SCOPE])
    ResourceManagementClient(cred_a, SUB_A, **kw).resource_groups.create_or_update("rg-cli-golden", {"location": "westeurope"})
    compute = ComputeManagementClient(cred_a, SUB_A, **kw)
    gallery = compute.galleries.begin_create_or_update("rg-cli-golden", "cligallery", {"location": "westeurope"}).result()
    compute.gallery_images.begin_create_or_update(
        "rg-cli-golden", "cligallery", "ubuntu",
        {"location": "westeurope", "os_type": "Linux", "os_state": "Generalized", "hyper_v_generation": "V1",
         "identifier": {"publisher": "contoso", "offer": "cli", "sku": "1"}},
    ).result()
    version = compute.gallery_image_versions.begin_create_or_update(
        "rg-cli-golden", "cligallery", "ubuntu", "1.0.0",
        {"location": "westeurope",
         "publishing_profile": {"target_regions": [{"name": "westeurope", "regional_replica_count": 1}]},
         "storage_profile": {"source": {"id": SOURCE_IMAGE}}},
    ).result()
    principal = jwt_decode.claim(cred_a.get_token(SCOPE).token, "oid")
    AuthorizationManagementClient(cred_a, SUB_A, **kw).role_assignments.create(
        gallery.id, str(uuid.uuid4()),
        {"properties": {
            "roleDefinitionId": f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
            "principalId": principal, "principalType": "ServicePrincipal"}},
    )
    return version.id


def test_az_login_twice_then_vm_create_cross_tenant(emulator, az):
    image = publish_image(emulator)
    az("login", "--service-principal", "-u", APP, "-p", SECRET, "--tenant", TENANT_A)
    az("login", "--service-principal", "-u", APP, "-p", SECRET, "--tenant", TENANT_B)
    subs = json.loads(az("account", "list", "-o", "json").stdout)
    assert {s["id"] for s in subs} >= {SUB_A, SUB_B}

    az("group", "create", "-n", "rg-cli-app", "-l", "westeurope", "--subscription", SUB_B)
    out = az(
        "vm", "create", "-g", "rg-cli-app", "-n", "clivm", "--subscription", SUB_B,
        "--image", image, "--size", "Standard_D2s_v3", "--admin-username", "azureuser",
        "--ssh-key-values", SSH_KEY, "--security-type", "Standard", "-o", "json",
    )
    vm = json.loads(out.stdout)
    assert vm["powerState"] == "VM running"
    assert vm["privateIpAddress"]

    deployment_puts = [
        r for r in emulator.requests()
        if r["method"] == "PUT" and "/providers/microsoft.resources/deployments/" in r["path"].lower()
    ]
    assert deployment_puts and all(r["auxiliary_tenants"] == [TENANT_A] for r in deployment_puts)
