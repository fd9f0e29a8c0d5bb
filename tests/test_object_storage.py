"""Images, GT and manifests on object storage: a real S3-protocol server (moto in server mode,
as s3fs's own tests do) started by these tests on 127.0.0.1 and stopped by them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import replace

import pyarrow.fs as pafs
import pytest
from click.testing import CliRunner
from ports import free_port
from sharded_data import manifest_rows, write_dataset

from pipelines.cli import main
from textrec_data.build import ManifestConfig, build_manifest
from textrec_data.errors import InputError
from textrec_data.manifest import read_manifest_info
from textrec_data.storage import as_path
from textrec_data.stream import ManifestStream, StreamConfig

pytest.importorskip("moto")
BUCKET = "textrec-test"
# columns that name where a row came from: local paths in one build, s3:// URLs in the other
ORIGIN_COLUMNS = ("image_path", "gt_path")


def _wait_for_port(port: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the S3 test server did not start")


@pytest.fixture(scope="module")
def s3(tmp_path_factory, scenes):
    """A moto S3 server on 127.0.0.1 with the test dataset under s3://BUCKET/in/."""
    port = free_port()
    cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        try:
            _wait_for_port(port, proc)
            fs = pafs.S3FileSystem(endpoint_override=endpoint, allow_bucket_creation=True)
            fs.create_dir(BUCKET)
            root = tmp_path_factory.mktemp("s3data")
            images, gt = write_dataset(root, scenes, images=12)
            for folder in (images, gt):
                pafs.copy_files(
                    str(folder), f"{BUCKET}/in/{folder.name}", destination_filesystem=fs
                )
            local = ManifestConfig(str(images), str(gt), str(root / "local"), workers=1)
            build_manifest(local, progress=False)
            yield {"local": root / "local", "url": f"s3://{BUCKET}", "config": local}
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _url_config(s3: dict, out: str, **kw) -> ManifestConfig:
    url = s3["url"]
    return replace(s3["config"], images=f"{url}/in/images", gt=f"{url}/in/gt", out=out, **kw)


def _same_rows(url_manifest: str, local_manifest) -> bool:
    a, b = manifest_rows(url_manifest), manifest_rows(local_manifest)
    return a.drop_columns(list(ORIGIN_COLUMNS)).equals(b.drop_columns(list(ORIGIN_COLUMNS)))


def test_build_from_and_to_s3(s3):
    out = f"{s3['url']}/out"
    report = build_manifest(_url_config(s3, out, workers=2, rows_per_part=10), progress=False)
    assert report["accounting_ok"] and report["parts"] >= 2
    assert _same_rows(out, s3["local"])
    assert manifest_rows(out)["image_path"][0].as_py().startswith(f"{s3['url']}/in/images/")
    for name in ("vocab.json", "report.json", "rejects/part-00000.parquet"):
        assert as_path(f"{out}/{name}").is_file()


def test_stream_reads_parts_from_s3(s3):
    out = f"{s3['url']}/streamed"
    build_manifest(_url_config(s3, out, workers=1), progress=False)
    config = StreamConfig(batch_size=4, shuffle=False)
    labels = {}
    for name, manifest in (("s3", out), ("local", s3["local"])):
        stream = ManifestStream([manifest], "train", config, epochs=1)
        labels[name] = sorted(label for batch in stream for label in batch.labels)
    assert labels["s3"] == labels["local"] and labels["local"]


def test_a_half_written_s3_manifest_is_refused(s3):
    fs = pafs.S3FileSystem(endpoint_override=os.environ["AWS_ENDPOINT_URL"])
    fs.create_dir(f"{BUCKET}/half/manifest")
    with fs.open_output_stream(f"{BUCKET}/half/manifest/part-00000.parquet") as stream:
        stream.write(b"PAR1")
    with pytest.raises(InputError, match="incomplete manifest"):
        read_manifest_info(f"{s3['url']}/half")


def test_cli_on_s3_builds_refuses_to_overwrite_and_reads(s3):
    runner = CliRunner()
    url = s3["url"]
    args = ["manifest", "--images", f"{url}/in/images", "--gt", f"{url}/in/gt"]
    args += ["--out", f"{url}/cli", "--quiet", "--workers", "1"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "manifest/ (" in result.output
    again = runner.invoke(main, args)
    assert again.exit_code == 2 and again.output.startswith(f"error: {url}/cli: output directory")
    stats = runner.invoke(main, ["stats", f"{url}/cli"])
    assert stats.exit_code == 0, stats.output
    assert f"{manifest_rows(s3['local']).num_rows} rows" in stats.output
    missing = runner.invoke(main, ["stats", f"{url}/nothing-here"])
    assert missing.exit_code == 2 and "manifest not found" in missing.output


@pytest.mark.slow
def test_dask_engine_from_and_to_s3(s3):
    pytest.importorskip("distributed")
    out = f"{s3['url']}/dask"
    config = _url_config(s3, out, workers=2, engine="dask", rows_per_part=10)
    report = build_manifest(config, progress=False)
    assert report["accounting_ok"] and _same_rows(out, s3["local"])
