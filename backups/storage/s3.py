"""Any S3-compatible store (AWS, MinIO, Ceph, R2…), configured through django-storages.

django-storages builds the boto3 resource from the plan's endpoint, region and keys; the
upload itself drives S3's multipart API by hand, because a backup must be aborted (not
completed) when the stream behind it fails, and django-storages' file would complete it.
Parts are PART_BYTES each, so memory stays at one part whatever the backup's size.
"""

from collections.abc import Iterator
from typing import BinaryIO

from backups.errors import env_value
from backups.models import StorageKind
from backups.storage.base import Storage, StorageError, StoredObject, Writer

PART_BYTES = 8 * 1024 * 1024  # S3's minimum is 5 MiB for every part but the last


def _reason(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {})
    if error:
        return f"{error.get('Code', '')}: {error.get('Message', '')}".strip(": ")
    return str(exc) or type(exc).__name__


class _MultipartWriter(Writer):
    def __init__(self, obj):
        self.obj = obj
        self.upload = None
        self.parts: list[dict] = []
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= PART_BYTES:
            self._send(bytes(self.buffer[:PART_BYTES]))
            del self.buffer[:PART_BYTES]
        return len(data)

    def _send(self, body: bytes) -> None:
        try:
            if self.upload is None:
                self.upload = self.obj.initiate_multipart_upload()
            number = len(self.parts) + 1
            answer = self.upload.Part(number).upload(Body=body)
        except Exception as exc:  # botocore's errors have no common base worth importing
            raise StorageError(f"S3 refused part {len(self.parts) + 1}: {_reason(exc)}") from exc
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def commit(self) -> None:
        try:
            if self.upload is None:  # small enough for one request
                self.obj.put(Body=bytes(self.buffer))
                return
            if self.buffer:
                self._send(bytes(self.buffer))
                self.buffer.clear()
            self.upload.complete(MultipartUpload={"Parts": self.parts})
        except StorageError:
            raise
        except Exception as exc:
            raise StorageError(f"S3 did not complete the upload: {_reason(exc)}") from exc

    def abort(self) -> None:
        self.buffer.clear()
        if self.upload is not None:
            try:
                self.upload.abort()
            except Exception:  # the reaper's remove_partial tries again later
                pass


class S3Storage(Storage):
    kind = StorageKind.S3

    def _storage(self):
        from storages.backends.s3 import S3Storage as DjangoS3Storage

        return DjangoS3Storage(
            bucket_name=self.plan.storage_bucket,
            endpoint_url=self.plan.storage_endpoint_url or None,
            region_name=self.plan.storage_region or None,
            access_key=env_value(self.plan.storage_access_key_env, field="storage_access_key_env"),
            secret_key=env_value(self.plan.storage_secret_key_env, field="storage_secret_key_env"),
            location=self.plan.storage_path.strip("/"),
            file_overwrite=True,
        )

    def _object(self, key: str):
        storage = self._storage()
        return storage.bucket.Object(storage._normalize_name(key))

    def open_writer(self, key: str) -> Writer:
        return _MultipartWriter(self._object(key))

    def open_reader(self, key: str) -> BinaryIO:
        try:
            return self._object(key).get()["Body"]
        except Exception as exc:
            raise StorageError(f"cannot read {key} from S3: {_reason(exc)}") from exc

    def delete(self, key: str) -> None:
        try:
            self._object(key).delete()
        except Exception as exc:
            raise StorageError(f"cannot delete {key} from S3: {_reason(exc)}") from exc

    def remove_partial(self, key: str) -> bool:
        storage = self._storage()
        name = storage._normalize_name(key)
        found = False
        try:
            for upload in storage.bucket.multipart_uploads.filter(Prefix=name):
                if upload.object_key == name:
                    upload.abort()
                    found = True
        except Exception as exc:
            raise StorageError(f"cannot list unfinished uploads in S3: {_reason(exc)}") from exc
        return found

    def list(self) -> Iterator[StoredObject]:
        storage = self._storage()
        prefix = storage._normalize_name(self.plan.name + "/")
        strip = len(storage._normalize_name("x")) - 1  # the location's length
        try:
            for obj in storage.bucket.objects.filter(Prefix=prefix):
                yield StoredObject(key=obj.key[strip:], size=obj.size)
        except Exception as exc:
            raise StorageError(f"cannot list the bucket: {_reason(exc)}") from exc

    def check(self) -> str:
        storage = self._storage()
        try:
            storage.connection.meta.client.head_bucket(Bucket=self.plan.storage_bucket)
        except Exception as exc:
            raise StorageError(f"bucket {self.plan.storage_bucket}: {_reason(exc)}") from exc
        return f"bucket {self.plan.storage_bucket} answers"

    def describe(self) -> str:
        where = self.plan.storage_endpoint_url or "AWS"
        return f"s3://{self.plan.storage_bucket}/{self.plan.storage_path.strip('/')} at {where}"
