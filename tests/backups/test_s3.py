"""Backups to a real S3-protocol server (moto in server mode on a loopback port): multipart
uploads, restore from S3, and a store that loses the upload halfway."""

import os
import sqlite3

import boto3
import pytest
from moto.server import ThreadedMotoServer

from backups.models import FailureKind, Status
from backups.services.retention import retention_apply
from backups.services.runs import plan_backup
from backups.services.verification import run_verify
from backups.storage import s3 as s3_storage
from tests.processes import free_port

BUCKET = "team-backups"


@pytest.fixture(scope="module")
def s3_url():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_url, monkeypatch):
    monkeypatch.setenv("BACKUP_S3_KEY", "test-key")
    monkeypatch.setenv("BACKUP_S3_SECRET", "test-secret")
    client = boto3.client(
        "s3", endpoint_url=s3_url, aws_access_key_id="test-key", aws_secret_access_key="test-secret",
        region_name="us-east-1",
    )  # fmt: skip
    client.create_bucket(Bucket=BUCKET)
    yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    for upload in client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
        client.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])


@pytest.fixture
def big_db(tmp_path):
    """About 12 MB that zstd cannot shrink, so the upload takes several parts."""
    path = tmp_path / "media.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)")
        conn.executemany("INSERT INTO blobs (data) VALUES (?)", [(os.urandom(60_000),) for _ in range(200)])
    return path


@pytest.fixture
def s3_plan(make_plan, big_db, s3, s3_url, monkeypatch):
    monkeypatch.setattr(s3_storage, "PART_BYTES", 5 * 1024 * 1024)  # S3's smallest part, to get several
    return make_plan(
        name="media", source="sqlite", sqlite_path=str(big_db), storage="s3", storage_bucket=BUCKET,
        storage_path="lookout", storage_endpoint_url=s3_url, storage_region="us-east-1",
        storage_access_key_env="BACKUP_S3_KEY", storage_secret_key_env="BACKUP_S3_SECRET",
    )  # fmt: skip


def test_a_backup_goes_to_s3_in_parts_and_verifies_from_there(s3_plan, s3, identity_env):
    (run,) = plan_backup(plan=s3_plan)
    assert run.status == Status.SUCCEEDED, run.error
    head = s3.head_object(Bucket=BUCKET, Key=f"lookout/{run.storage_key}")
    assert head["ContentLength"] == run.stored_bytes > 10 * 1024 * 1024
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload of three parts
    receipt = run_verify(run=run)
    assert receipt.status == Status.SUCCEEDED, receipt.error
    assert receipt.found_rows == {"blobs": 200}


def test_a_store_that_loses_the_upload_halfway_fails_the_run_and_keeps_nothing(s3_plan, s3, monkeypatch):
    original = s3_storage._MultipartWriter._send
    sent = []

    def send_then_lose_the_upload(writer, body):
        original(writer, body)
        sent.append(len(body))
        if len(sent) == 1:  # the store forgets the upload after its first part
            s3.abort_multipart_upload(Bucket=BUCKET, Key=writer.obj.key, UploadId=writer.upload.id)

    monkeypatch.setattr(s3_storage._MultipartWriter, "_send", send_then_lose_the_upload)
    (run,) = plan_backup(plan=s3_plan)
    assert run.status == Status.FAILED and run.failure_kind == FailureKind.STORAGE
    assert run.error.startswith("S3 refused part 2: "), run.error  # moto answers 500 for a lost upload
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_retention_removes_orphans_from_the_bucket(s3_plan, s3, identity_env):
    from django.utils import timezone

    (run,) = plan_backup(plan=s3_plan)
    s3.put_object(Bucket=BUCKET, Key="lookout/media/database/stray.age", Body=b"x")
    report = retention_apply(now=timezone.now())
    assert report.orphans == ["media: media/database/stray.age"] and not report.errors
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [f"lookout/{run.storage_key}"]


def test_unset_credentials_fail_the_run_naming_the_variable(s3_plan, monkeypatch):
    monkeypatch.delenv("BACKUP_S3_SECRET")
    (run,) = plan_backup(plan=s3_plan)
    assert run.status == Status.FAILED and run.failure_kind == FailureKind.CONFIG
    assert run.error == "storage_secret_key_env: the environment variable BACKUP_S3_SECRET is not set"
