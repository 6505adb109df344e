"""Starts galleon's Azure emulator once for the session and hands its endpoint to the tests.

The conformance tests drive the emulator with Azure's own clients, unchanged, the way a user would
point them at a private cloud: HTTPS with the emulator's CA in REQUESTS_CA_BUNDLE, instance discovery
off, and the emulator's endpoint as the ARM base URL and the Entra authority.
"""

import json
import os
import pathlib
import subprocess
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SEED = pathlib.Path(__file__).with_name("seed.yaml")

TENANT_A = "11111111-1111-4111-8111-111111111111"
TENANT_B = "22222222-2222-4222-8222-222222222222"
SUB_A = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"
SUB_B = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"
APP = "0a0a0a0a-3333-4333-8333-333333333333"
SECRET = "conformance-secret-value"
SOURCE_IMAGE = (
    f"/subscriptions/{SUB_A}/resourceGroups/rg-image-build/providers/"
    "Microsoft.Compute/images/ubuntu-2204-base"
)
SSH_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGalleonExampleKeyOnlyForDocsAndTestsXXXXXXX conformance"
)


class Emulator:
    def __init__(self, endpoint, ca_file, admin):
        self.endpoint = endpoint
        self.ca_file = ca_file
        self.admin = admin

    def requests(self):
        import requests

        return requests.get(f"{self.admin}/requests", verify=self.ca_file, timeout=10).json()


@pytest.fixture(scope="session")
def emulator():
    binary = os.environ.get("GALLEON_EMULATOR_BIN", str(ROOT / "target/debug/galleon-emulator"))
    state = tempfile.mkdtemp(prefix="galleon-conformance-")
    ready = pathlib.Path(state) / "ready.json"
    proc = subprocess.Popen(
        [binary, "serve", "--seed", str(SEED), "--state-dir", state, "--port", "0",
         "--ready-file", str(ready)],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while not (ready.exists() and ready.read_text().strip()):
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError("the emulator did not start")
        time.sleep(0.05)
    info = json.loads(ready.read_text().strip().splitlines()[0])
    os.environ["REQUESTS_CA_BUNDLE"] = info["ca_file"]
    yield Emulator(info["endpoint"], info["ca_file"], info["admin"])
    proc.terminate()
    proc.wait(timeout=10)
