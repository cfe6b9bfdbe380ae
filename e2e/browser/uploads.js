// The upload page of the end-to-end tests (e2e/uploads_test.go), bundled
// for the browser with esbuild at test time. Each window function is one
// upload style people use against S3 from a web app; each returns what
// Chromium let the script see, step by step, for the test log.
import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';
import { S3Client, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';

// Uppy with @uppy/aws-s3: a multipart upload of the file at dataURL (same
// origin), every S3 request presigned by the test's signing endpoint
// /sign. Uppy reads each part's ETag from the UploadPart response, which
// CORS hides unless the rule exposes it.
window.uppyUpload = async ({ bucket, key, dataURL, chunkSize }) => {
  const log = [];
  const blob = await (await fetch(dataURL, { cache: 'no-store' })).blob();
  log.push(`read ${blob.size} bytes from ${dataURL}`);
  const uppy = new Uppy({ autoProceed: false });
  uppy.use(AwsS3, {
    shouldUseMultipart: true,
    getChunkSize: () => chunkSize,
    generateObjectKey: () => key,
    limit: 1,
    signRequest: async (request) => {
      const res = await fetch('/sign', { method: 'POST', body: JSON.stringify({ bucket, ...request }) });
      if (!res.ok) {
        throw new Error(`sign ${request.method}: ${res.status} ${await res.text()}`);
      }
      const what = request.partNumber ? `part ${request.partNumber}` : request.uploadId ? 'upload' : 'new upload';
      log.push(`signed ${request.method} ${what}`);
      return res.json();
    },
  });
  const parts = [];
  uppy.on('s3-multipart:part-uploaded', (file, part) => {
    parts.push(part);
    log.push(`part ${part.PartNumber} uploaded, ETag read from the response: ${part.ETag}`);
  });
  uppy.on('upload-error', (file, err) => log.push(`upload-error: ${err}`));
  uppy.on('upload-success', (file, res) => log.push(`upload-success: ${JSON.stringify(res.body)}`));
  uppy.addFile({ name: key, type: 'application/octet-stream', data: blob });
  const result = await uppy.upload();
  return {
    successful: (result?.successful ?? []).map((f) => f.response?.body ?? {}),
    failed: (result?.failed ?? []).map((f) => String(f.error)),
    parts,
    log,
  };
};

// An S3 browser-based POST: multipart/form-data with the policy fields the
// test signed, the file last. Without extra headers the POST is a simple
// request; with one it is preflighted.
window.formUpload = async ({ url, fields, file, headers }) => {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    form.append(name, value);
  }
  form.append('file', new Blob([file], { type: 'text/plain' }), 'upload.txt');
  try {
    const res = await fetch(url, { method: 'POST', body: form, headers: headers ?? {}, cache: 'no-store' });
    return {
      status: res.status,
      etag: res.headers.get('ETag'),
      location: res.headers.get('Location'),
      headers: [...res.headers.keys()],
      body: await res.text(),
    };
  } catch (e) {
    return { error: String(e) };
  }
};

// The AWS SDK for JavaScript v3 with credentials in the page: PutObject,
// then GetObject, both signed in the browser with the SDK's defaults
// (CRC32 checksum on the PUT, checksum mode on the GET). It records the
// header names of each signed request: what the preflight asks for.
window.sdkPutGet = async ({ endpoint, accessKeyId, secretAccessKey, bucket, key, body }) => {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
  const sent = [];
  client.middlewareStack.addRelativeTo(
    (next) => async (args) => {
      sent.push(Object.keys(args.request.headers).map((h) => h.toLowerCase()).sort());
      return next(args);
    },
    { name: 'recordSignedHeaders', relation: 'after', toMiddleware: 'httpSigningMiddleware' },
  );
  const out = { sent };
  try {
    const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/plain' }));
    out.put = { status: put.$metadata.httpStatusCode, etag: put.ETag ?? null, checksumCRC32: put.ChecksumCRC32 ?? null };
  } catch (e) {
    out.putError = String(e);
  }
  try {
    const get = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    out.get = { status: get.$metadata.httpStatusCode, etag: get.ETag ?? null, body: await get.Body.transformToString() };
  } catch (e) {
    out.getError = String(e);
  }
  return out;
};
