"""The seed scenario through Azure's official Python SDK, unchanged, against the emulator.

Tenant A (publisher) gets a gallery, an image definition and version, and a Reader grant for the
multi-tenant app; tenant B (consumer) gets a network, a NIC and a VM whose image is A's version.
The VM PUT succeeds only with A's token in x-ms-authorization-auxiliary, which the SDK's own
AuxiliaryAuthenticationPolicy adds.
"""

import uuid

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.core.policies import AuxiliaryAuthenticationPolicy
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network import models as netmodels
from azure.mgmt.resource import ResourceManagementClient

from conftest import APP, SECRET, SOURCE_IMAGE, SSH_KEY, SUB_A, SUB_B, TENANT_A, TENANT_B

SCOPE = "https://management.azure.com/.default"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def credential(emulator, tenant, app=APP, secret=SECRET):
    return ClientSecretCredential(
        tenant, app, secret, authority=emulator.endpoint, disable_instance_discovery=True
    )


def clients(emulator, cls, cred, sub, **kwargs):
    return cls(cred, sub, base_url=emulator.endpoint, credential_scopes=[SCOPE], **kwargs)


def version_id():
    return (
        f"/subscriptions/{SUB_A}/resourceGroups/rg-golden/providers/Microsoft.Compute/"
        "galleries/golden/images/ubuntu/versions/1.0.0"
    )


def vm_body(nic_id):
    return {
        "location": "westeurope",
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {
                "imageReference": {"id": version_id()},
                "osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": "Premium_LRS"}},
            },
            "osProfile": {
                "computerName": "web",
                "adminUsername": "azureuser",
                "linuxConfiguration": {
                    "disablePasswordAuthentication": True,
                    "ssh": {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": SSH_KEY}]},
                },
            },
            "networkProfile": {"networkInterfaces": [{"id": nic_id}]},
        },
    }


def test_token_for_unconsented_tenant_is_aadsts700016(emulator):
    cred = credential(emulator, TENANT_B, app="0b0b0b0b-4444-4444-8444-444444444444", secret="other-secret-value")
    with pytest.raises(ClientAuthenticationError) as err:
        cred.get_token(SCOPE)
    assert "AADSTS700016" in str(err.value)


def test_wrong_secret_is_aadsts7000215(emulator):
    with pytest.raises(ClientAuthenticationError) as err:
        credential(emulator, TENANT_A, secret="not-the-secret").get_token(SCOPE)
    assert "AADSTS7000215" in str(err.value)


def test_seed_scenario(emulator):
    cred_a = credential(emulator, TENANT_A)
    cred_b = credential(emulator, TENANT_B)

    # Tenant A: resource group, gallery, image definition, image version, Reader grant.
    res_a = clients(emulator, ResourceManagementClient, cred_a, SUB_A)
    res_a.resource_groups.create_or_update("rg-golden", {"location": "westeurope"})
    compute_a = clients(emulator, ComputeManagementClient, cred_a, SUB_A)
    gallery = compute_a.galleries.begin_create_or_update(
        "rg-golden", "golden", {"location": "westeurope", "description": "golden images"}
    ).result()
    assert gallery.provisioning_state == "Succeeded"
    image = compute_a.gallery_images.begin_create_or_update(
        "rg-golden", "golden", "ubuntu",
        {
            "location": "westeurope",
            "os_type": "Linux",
            "os_state": "Generalized",
            "hyper_v_generation": "V2",
            "identifier": {"publisher": "contoso", "offer": "ubuntu", "sku": "22_04"},
        },
    ).result()
    assert image.os_state == "Generalized"
    version = compute_a.gallery_image_versions.begin_create_or_update(
        "rg-golden", "golden", "ubuntu", "1.0.0",
        {
            "location": "westeurope",
            "publishing_profile": {"target_regions": [{"name": "westeurope", "regional_replica_count": 1}]},
            "storage_profile": {"source": {"id": SOURCE_IMAGE}},
        },
    ).result()
    assert version.provisioning_state == "Succeeded"

    # The app's service principal in tenant B must read the version in tenant A: Reader on the
    # gallery for the app's principal *in tenant A* (the oid of its tenant-A token).
    import jwt_decode  # local helper module

    principal_a = jwt_decode.claim(cred_a.get_token(SCOPE).token, "oid")
    auth_a = clients(emulator, AuthorizationManagementClient, cred_a, SUB_A)
    auth_a.role_assignments.create(
        gallery.id, str(uuid.uuid4()),
        # azure-mgmt-authorization 5 uses "hybrid" models that send a dict verbatim: REST shape.
        {"properties": {
            "roleDefinitionId": f"/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleDefinitions/{READER}",
            "principalId": principal_a,
            "principalType": "ServicePrincipal",
        }},
    )

    # Tenant B: resource group, network, NIC.
    res_b = clients(emulator, ResourceManagementClient, cred_b, SUB_B)
    res_b.resource_groups.create_or_update("rg-app", {"location": "westeurope"})
    net_b = clients(emulator, NetworkManagementClient, cred_b, SUB_B)
    # azure-mgmt-network 33 has "hybrid" models: model classes, not snake_case dicts.
    vnet = net_b.virtual_networks.begin_create_or_update(
        "rg-app", "vnet-app",
        netmodels.VirtualNetwork(
            location="westeurope",
            address_space=netmodels.AddressSpace(address_prefixes=["10.10.0.0/16"]),
            subnets=[netmodels.Subnet(name="default", address_prefix="10.10.1.0/24")],
        ),
    ).result()
    nic = net_b.network_interfaces.begin_create_or_update(
        "rg-app", "web-nic",
        netmodels.NetworkInterface(
            location="westeurope",
            ip_configurations=[netmodels.NetworkInterfaceIPConfiguration(
                name="ipconfig1", subnet=netmodels.Subnet(id=vnet.subnets[0].id))],
        ),
    ).result()
    assert nic.ip_configurations[0].private_ip_address

    # Without the auxiliary token ARM refuses the linked image: LinkedAuthorizationFailed.
    compute_b = clients(emulator, ComputeManagementClient, cred_b, SUB_B)
    with pytest.raises(HttpResponseError) as err:
        compute_b.virtual_machines.begin_create_or_update("rg-app", "web", vm_body(nic.id)).result()
    assert err.value.error.code == "LinkedAuthorizationFailed"

    # With tenant A's token as auxiliary, the SDK's own policy makes it work.
    aux = AuxiliaryAuthenticationPolicy([cred_a], SCOPE)
    compute_b_aux = clients(emulator, ComputeManagementClient, cred_b, SUB_B, per_call_policies=[aux])
    vm = compute_b_aux.virtual_machines.begin_create_or_update("rg-app", "web", vm_body(nic.id)).result()
    assert vm.provisioning_state == "Succeeded"
    assert vm.storage_profile.image_reference.id.lower() == version_id().lower()

    view = compute_b.virtual_machines.get("rg-app", "web", expand="instanceView")
    assert any(s.code.startswith("PowerState/") for s in view.instance_view.statuses)

    # The emulator saw tenant A's token as auxiliary on the successful VM PUT.
    entries = emulator.requests()
    vm_puts = [r for r in entries if r["method"] == "PUT" and r["path"].lower().endswith("/virtualmachines/web")]
    assert [r["status"] for r in vm_puts] == [403, 201], vm_puts
    assert not vm_puts[0]["auxiliary"]
    assert vm_puts[1]["auxiliary_tenants"] == [TENANT_A]
    # The read through the client without the policy carried no auxiliary token.
    vm_reads = [r for r in entries if r["method"] == "GET" and "instanceView" in r["query"]]
    assert vm_reads and not any(r["auxiliary"] for r in vm_reads)
