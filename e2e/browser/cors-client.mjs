// Manages a bucket's CORS configuration with the AWS SDK for JavaScript v3
// in node, as a deploy script does: the SDK's defaults (its CRC32 request
// checksum included), credentials from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY. Prints the result as JSON on stdout, and the
// headers of each signed request on stderr.
//
// usage: node cors-client.mjs put|get|delete ENDPOINT BUCKET [CONFIG_JSON]
import {
  S3Client, PutBucketCorsCommand, GetBucketCorsCommand, DeleteBucketCorsCommand,
} from '@aws-sdk/client-s3';

const [action, endpoint, bucket, config] = process.argv.slice(2);
const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, maxAttempts: 1 });
client.middlewareStack.addRelativeTo(
  (next) => async (args) => {
    const h = args.request.headers;
    const shown = Object.keys(h).filter((k) => /checksum|content-md5|content-sha256/i.test(k)).map((k) => `${k}: ${h[k]}`);
    process.stderr.write(`signed ${args.request.method} ${args.request.path}?${Object.keys(args.request.query).join('&')}: ${shown.join('; ')}\n`);
    return next(args);
  },
  { name: 'logSignedHeaders', relation: 'after', toMiddleware: 'httpSigningMiddleware' },
);

try {
  let out;
  switch (action) {
    case 'put':
      out = await client.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: JSON.parse(config) }));
      break;
    case 'get':
      out = await client.send(new GetBucketCorsCommand({ Bucket: bucket }));
      break;
    case 'delete':
      out = await client.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
      break;
    default:
      throw new Error(`unknown action ${action}`);
  }
  delete out.$metadata;
  process.stdout.write(JSON.stringify(out) + '\n');
} catch (e) {
  process.stderr.write(`${e.name}: ${e.message} (HTTP ${e.$metadata?.httpStatusCode})\n`);
  process.exit(1);
}
