import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import type { LocalCloud } from '../../local-cloud';
import { excuseViolations, startCloud } from '../helpers/cloud';
import { ddsCall, fcClient, fcModels, kmsClient, kmsModels, type AccessKeyLike, sdkFailure as failure } from '../helpers/sdk';

const require = createRequire(import.meta.url);
const openApiUtil = (require('@alicloud/openapi-core') as typeof import('@alicloud/openapi-core')).OpenApiUtil;
const rpcUtil = require('@alicloud/rpc-util').default as {
  getSignatureV1(query: Record<string, string>, method: string, secret: string): string;
  getTimestamp(): string;
};

const PLAIN = { id: 'LTAI5tGatewayTest01', secret: 'gateway-secret-01' };
const STS = { id: 'STS.GatewayRole01', secret: 'gateway-sts-secret-01', securityToken: 'gateway-sts-token-01' };
const INSTANCE = 'dds-bp1gatewaytest01';
const SECRET = `mongodb/${INSTANCE}/root`;
const PASSWORD = 'Gateway#Start-01';
const READ_ONLY = {
  id: 'LTAI5tGatewayReadOnly',
  secret: 'gateway-read-only-01',
  policy: {
    Version: '1',
    Statement: [{ Effect: 'Allow', Action: 'dds:Describe*', Resource: `acs:dds:*:*:dbinstance/${INSTANCE}` }],
  },
};

const fixture = {
  region: 'cn-hangzhou',
  accessKeys: [PLAIN, STS, READ_ONLY],
  instances: [{ id: INSTANCE, type: 'replicate', rootPassword: PASSWORD }],
  secrets: [
    {
      name: SECRET,
      instanceId: INSTANCE,
      versions: [
        { versionId: 'v1', data: JSON.stringify({ AccountName: 'root', AccountPassword: PASSWORD }), stages: ['ACSCurrent'] },
      ],
    },
  ],
};

const UPPER_UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

/** POSTs raw bytes with exactly these headers; resolves with the status and the parsed body. */
function post(endpoint: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${endpoint}/`, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('gateway', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud({ port: 0, fixture });
  });
  afterAll(async () => {
    await cloud?.close();
  });

  const getSecret = (key: AccessKeyLike = PLAIN) =>
    kmsClient(cloud, key).getSecretValue(new kmsModels.GetSecretValueRequest({ secretName: SECRET }));
  const describeInstance = (key: AccessKeyLike = PLAIN, options = {}) =>
    ddsCall(cloud, 'DescribeDBInstanceAttribute', { DBInstanceId: INSTANCE }, key, options);

  describe('serves both signature versions on one port', () => {
    it('KMS through rpc-client (RPC v1, HMAC-SHA1, parameters in the query)', async () => {
      const response = await getSecret();
      expect(response.secretName).toBe(SECRET);
      expect(response.requestId).toMatch(UPPER_UUID);
    });

    it('KMS with its parameters in a form body', async () => {
      const client = kmsClient(cloud);
      const body = await client.doRequest('GetSecretValue', 'HTTPS', 'POST', '2016-01-20', 'AK', {}, { SecretName: SECRET }, {} as never);
      expect(body.SecretName).toBe(SECRET);
    });

    it('DDS through openapi-core (ACS3-HMAC-SHA256), in the query or in a form body', async () => {
      for (const inBody of [false, true]) {
        const body = await describeInstance(PLAIN, { inBody });
        const instances = (body.DBInstances as { DBInstance: { DBInstanceId: string }[] }).DBInstance;
        expect(instances[0].DBInstanceId).toBe(INSTANCE);
        expect(body.RequestId).toMatch(UPPER_UUID);
      }
    });

    it('gives every response a fresh request id and logs each request with it', async () => {
      const first = await describeInstance();
      const second = await describeInstance();
      expect(first.RequestId).not.toBe(second.RequestId);
      const logged = cloud.truth.requests.find((r) => r.requestId === second.RequestId);
      expect(logged).toMatchObject({ product: 'dds', action: 'DescribeDBInstanceAttribute', status: 200, accessKeyId: PLAIN.id, write: false });
      expect(logged?.params).toEqual({ DBInstanceId: INSTANCE });
    });
  });

  describe('refuses what it cannot authenticate', () => {
    it('a signature made with the wrong secret, on either version', async () => {
      const wrong = { ...PLAIN, secret: 'not-the-secret' };
      const rpc = await failure(getSecret(wrong));
      expect(rpc.code).toBe('SignatureDoesNotMatchError');
      expect(rpc.data).toMatchObject({ Code: 'SignatureDoesNotMatch', HostId: 'kms.cn-hangzhou.aliyuncs.com' });
      expect(rpc.message).toContain('code: 400');
      const acs3 = await failure(describeInstance(wrong));
      expect(acs3).toMatchObject({ code: 'SignatureDoesNotMatch', statusCode: 400 });
    });

    it('an RPC request whose parameter was changed after signing', async () => {
      const query: Record<string, string> = {
        Action: 'GetSecretValue',
        Version: '2016-01-20',
        Format: 'JSON',
        Timestamp: rpcUtil.getTimestamp(),
        SignatureNonce: `nonce-${Math.random()}`,
        SignatureMethod: 'HMAC-SHA1',
        SignatureVersion: '1.0',
        AccessKeyId: PLAIN.id,
        SecretName: SECRET,
      };
      const signature = rpcUtil.getSignatureV1(query, 'POST', PLAIN.secret);
      const send = (params: Record<string, string>) =>
        fetch(`${cloud.endpoint}/?${new URLSearchParams({ ...params, Signature: signature })}`, { method: 'POST' });
      const tampered = await send({ ...query, SecretName: 'mongodb/another/root' });
      expect(tampered.status).toBe(400);
      const body = (await tampered.json()) as Record<string, string>;
      expect(Object.keys(body).sort()).toEqual(['Code', 'HostId', 'Message', 'RequestId']);
      expect(body.Code).toBe('SignatureDoesNotMatch');
      const intact = await send(query);
      expect(intact.status).toBe(200);
    });

    it('an ACS3 request whose body or a signed header was changed after signing', async () => {
      const body = `DBInstanceId=${INSTANCE}`;
      const headers: Record<string, string> = {
        host: cloud.host,
        'content-type': 'application/x-www-form-urlencoded',
        'x-acs-action': 'DescribeDBInstanceAttribute',
        'x-acs-version': '2015-12-01',
        'x-acs-date': minutesAgo(0),
        'x-acs-signature-nonce': `tamper-${Math.random()}`,
        'x-acs-content-sha256': createHash('sha256').update(body).digest('hex'),
      };
      const signed = { method: 'POST', pathname: '/', query: {}, headers } as never;
      headers.authorization = openApiUtil.getAuthorization(signed, 'ACS3-HMAC-SHA256', headers['x-acs-content-sha256'], PLAIN.id, PLAIN.secret);

      const otherBody = await post(cloud.endpoint, headers, 'DBInstanceId=dds-bp1another');
      expect(otherBody).toMatchObject({ status: 400, body: { Code: 'SignatureDoesNotMatch' } });
      const otherAction = await post(cloud.endpoint, { ...headers, 'x-acs-action': 'ResetAccountPassword' }, body);
      expect(otherAction).toMatchObject({ status: 400, body: { Code: 'SignatureDoesNotMatch' } });
      const unsigned = await post(cloud.endpoint, { ...headers, 'x-acs-security-token': 'smuggled' }, body);
      expect(unsigned).toMatchObject({ status: 400, body: { Code: 'IncompleteSignature' } });
      const intact = await post(cloud.endpoint, headers, body);
      expect(intact.status).toBe(200);
    });

    it('an unknown access key, with 404', async () => {
      const err = await failure(describeInstance({ id: 'LTAI5tNobodyKnowsMe', secret: 'x' }));
      expect(err).toMatchObject({ code: 'InvalidAccessKeyId.NotFound', statusCode: 404 });
    });

    it('a replayed nonce', async () => {
      const nonce = `replayed-${Date.now()}`;
      await describeInstance(PLAIN, { headers: { 'x-acs-signature-nonce': nonce } });
      const acs3 = await failure(describeInstance(PLAIN, { headers: { 'x-acs-signature-nonce': nonce } }));
      expect(acs3).toMatchObject({ code: 'SignatureNonceUsed', statusCode: 400 });

      const request = { SecretName: SECRET, SignatureNonce: `${nonce}-rpc` } as never;
      await kmsClient(cloud).getSecretValue(request);
      const rpc = await failure(kmsClient(cloud).getSecretValue(request));
      expect(rpc.data?.Code).toBe('SignatureNonceUsed');
    });

    it('a timestamp more than 15 minutes off, either way', async () => {
      const stale = await failure(describeInstance(PLAIN, { headers: { 'x-acs-date': minutesAgo(16) } }));
      expect(stale).toMatchObject({ code: 'InvalidTimeStamp.Expired', statusCode: 400 });
      const future = await failure(kmsClient(cloud).getSecretValue({ SecretName: SECRET, Timestamp: minutesAgo(-16) } as never));
      expect(future.data?.Code).toBe('InvalidTimeStamp.Expired');
      await describeInstance(PLAIN, { headers: { 'x-acs-date': minutesAgo(14) } });
    });

    it('a timestamp that is not ISO 8601', async () => {
      const err = await failure(describeInstance(PLAIN, { headers: { 'x-acs-date': 'Tue, 01 Dec 2026 10:00:00 GMT' } }));
      expect(err).toMatchObject({ code: 'InvalidTimeStamp.Format', statusCode: 400 });
    });

    it('an STS key without its security token, or with another one', async () => {
      const { securityToken: _token, ...bare } = STS;
      expect((await failure(getSecret(bare))).data?.Code).toBe('MissingSecurityToken');
      expect(await failure(describeInstance(bare))).toMatchObject({ code: 'MissingSecurityToken', statusCode: 400 });
      const other = { ...STS, securityToken: 'someone-elses-token' };
      expect((await failure(getSecret(other))).data?.Code).toBe('InvalidSecurityToken.MismatchWithAccessKey');
      expect(await failure(describeInstance(other))).toMatchObject({ code: 'InvalidSecurityToken.MismatchWithAccessKey' });
      expect((await getSecret(STS)).secretName).toBe(SECRET);
      expect((await describeInstance(STS)).RequestId).toMatch(UPPER_UUID);
    });

    it('a request with no signature at all', async () => {
      const response = await fetch(`${cloud.endpoint}/?Action=GetSecretValue&Version=2016-01-20&SecretName=x`);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ Code: 'MissingParameter', HostId: 'kms.cn-hangzhou.aliyuncs.com' });
    });
  });

  describe('routes', () => {
    it('answers an unknown action with InvalidApi.NotFound (404)', async () => {
      const err = await failure(ddsCall(cloud, 'DescribeNothingAtAll', {}, PLAIN));
      expect(err).toMatchObject({ code: 'InvalidApi.NotFound', statusCode: 404 });
    });

    it('answers an unknown version with InvalidParameter', async () => {
      const response = await fetch(`${cloud.endpoint}/?Action=DescribeRegions&Version=2014-05-26`);
      expect(await response.json()).toMatchObject({ Code: 'InvalidParameter' });
    });

    it('hands FC paths, once their ACS3 signature holds, to Function Compute', async () => {
      const invoke = (key: AccessKeyLike) =>
        fcClient(cloud, key).invokeFunction('no-such-function', new fcModels.InvokeFunctionRequest({ body: Readable.from([Buffer.from('{}')]) }));
      expect(await failure(invoke({ ...PLAIN, secret: 'wrong' }))).toMatchObject({ code: 'SignatureDoesNotMatch', statusCode: 400 });
      expect(await failure(invoke(PLAIN))).toMatchObject({ code: 'FunctionNotFound', statusCode: 404 });
      expect(cloud.truth.requests.at(-1)).toMatchObject({ product: 'fc', action: 'InvokeFunction', status: 404, code: 'FunctionNotFound' });
    });
  });

  describe('holds a key that carries a RAM policy to it', () => {
    it('serves what the policy allows and refuses the rest with each service\'s code', async () => {
      expect((await describeInstance(READ_ONLY)).RequestId).toMatch(UPPER_UUID);
      const reset = ddsCall(cloud, 'ResetAccountPassword', { DBInstanceId: INSTANCE, AccountName: 'root', AccountPassword: 'Gateway#Denied-9' }, READ_ONLY);
      expect(await failure(reset)).toMatchObject({ code: 'Forbidden.RAM', statusCode: 403 });
      expect(cloud.truth.rootPassword(INSTANCE)).not.toBe('Gateway#Denied-9');
      const read = await failure(getSecret(READ_ONLY));
      expect(read.data).toMatchObject({ Code: 'Forbidden.NoPermission' });
      expect(read.message).toContain('code: 403');
    });

    it('refuses to start with a policy it cannot evaluate', async () => {
      const broken = { ...READ_ONLY, policy: { Version: '2', Statement: [] } };
      await expect(startCloud({ port: 0, fixture: { ...fixture, accessKeys: [PLAIN, broken] } })).rejects.toThrow(
        /accessKeys\[1\]\.policy: policy Version must be "1"/,
      );
    });
  });

  describe('logs writes and checks the invariant after each', () => {
    it('carries every special character of the password rule intact, redacts it in the log, and records the violation a write caused', async () => {
      const pending = 'Gw!#$%^&*()_+-=9a';
      const other = 'Gx=-+_)(*&^%$#!8b';
      const put = await kmsClient(cloud).putSecretValue(
        new kmsModels.PutSecretValueRequest({
          secretName: SECRET,
          versionId: 'v-gateway-2',
          secretData: JSON.stringify({ AccountName: 'root', AccountPassword: pending, Note: 'clé "quoted" & spaced' }),
          versionStages: '["ACSPending"]',
        }),
      );
      expect(cloud.truth.secretPassword(SECRET, 'ACSPending')).toBe(pending);
      const reset = await ddsCall(cloud, 'ResetAccountPassword', { DBInstanceId: INSTANCE, AccountName: 'root', AccountPassword: other }, PLAIN, {
        inBody: true,
      });
      expect(cloud.truth.rootPassword(INSTANCE)).toBe(other);

      const logged = cloud.truth.writeRequests();
      expect(logged.find((r) => r.requestId === put.requestId)?.params.SecretData).toBe('[redacted]');
      expect(logged.find((r) => r.requestId === reset.RequestId)?.params.AccountPassword).toBe('[redacted]');
      const log = JSON.stringify(cloud.truth.requests);
      for (const password of [pending, other]) expect(log).not.toContain(JSON.stringify(password).slice(1, -1));
      expect(cloud.truth.violations).toEqual([
        expect.objectContaining({ requestId: reset.RequestId, product: 'dds', action: 'ResetAccountPassword', instanceId: INSTANCE }),
      ]);
      excuseViolations(cloud, 'the violation this write caused is the subject of the test');
    });
  });
});
