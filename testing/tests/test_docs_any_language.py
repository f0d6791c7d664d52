"""docs/testing-any-language.md: every flag, config key and One Login error is there, and the
``curl`` walk-through runs as written against the console script."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scotaccount_django_testing.fake.__main__ import build_parser
from scotaccount_django_testing.fake.control import CONFIG_KEYS
from scotaccount_django_testing.fake.scenarios import ONE_LOGIN_ERRORS

PAGE = (Path(__file__).parents[2] / "docs" / "testing-any-language.md").read_text()


def test_every_one_login_error_is_in_the_table():
    for group, errors in ONE_LOGIN_ERRORS.items():
        for name, (fault, _) in errors.items():
            assert f"| `{group}` | `{name}` | `{fault}` |" in PAGE, (group, name)


def test_every_flag_and_config_key_is_documented():
    flags = [
        option
        for action in build_parser()._actions
        for option in action.option_strings
        if option.startswith("--") and option not in ("--help", "--config")
    ]
    assert flags
    assert [flag for flag in flags if f"`{flag}" not in PAGE] == []
    assert [key for key in CONFIG_KEYS if f"| `{key}` |" not in PAGE] == []


def walkthrough_blocks():
    section = PAGE.split("## One sign-in with `curl`", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```sh\n(.*?)^```$", section, re.M | re.S)


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("curl", "openssl", "jq", "basenc")),
    reason="the walk-through needs curl, openssl, jq and basenc",
)
def test_the_curl_walkthrough_runs_as_written(tmp_path):
    keys, start, *steps = walkthrough_blocks()
    bash = ["bash", "-euo", "pipefail", "-c"]
    subprocess.run([*bash, keys], cwd=tmp_path, check=True, timeout=60)
    command = shlex.split(start.replace("\\\n", " ").strip().removesuffix("&"))
    assert command[0] == "scotaccount-fake"
    fake = subprocess.Popen(
        [str(Path(sys.executable).with_name("scotaccount-fake")), *command[1:], "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        discovery = ""
        while not discovery:
            line = fake.stdout.readline()
            assert line, "the fake stopped"
            if line.startswith("Discovery URL: "):
                discovery = line.split(": ", 1)[1].strip()
        issuer = discovery.removesuffix("/.well-known/openid-configuration")
        script = "\n".join(steps).replace("FAKE=http://127.0.0.1:8001", f"FAKE={issuer}")
        result = subprocess.run(
            [*bash, script],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PATH": os.environ["PATH"]},
            check=False,
        )
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{issuer}/token"
    assert lines[1].startswith("http://localhost:3000/callback?code=")
    assert '"iss": "' + issuer + '"' in result.stdout
    assert '"nonce": "n1"' in result.stdout
    assert '{"id_token_wrong_iss":null}' in result.stdout
    assert '{"status":200,"fault":null,"outcome":"tokens issued"}' in result.stdout
