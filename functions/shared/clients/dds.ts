/**
 * ApsaraDB for MongoDB (DDS 2015-12-01) on @alicloud/openapi-core, shaped like the generated
 * `@alicloud/dds20151201` client (which the npm registry here does not carry) so that it can be swapped in:
 * the same model classes, `xxx(request)` / `xxxWithOptions(request, runtime)`, RPC-style `callApi`.
 */
import * as $dara from '@darabonba/typescript';
import OpenApi, { $OpenApiUtil, OpenApiUtil } from '@alicloud/openapi-core';
import * as $_model from './dds-models';

export * from './dds-models';

export const DDS_VERSION = '2015-12-01';

export default class DdsClient extends OpenApi {
  constructor(config: $OpenApiUtil.Config) {
    super(config);
    this._endpointRule = 'regional';
    this.checkConfig(config);
    this._endpoint = this.getEndpoint(this._regionId, this._endpoint);
  }

  /** The configured endpoint, else the region's public one (`mongodb.<region>.aliyuncs.com`). */
  getEndpoint(regionId: string, endpoint: string): string {
    if (!$dara.isNull(endpoint)) return endpoint;
    if ($dara.isNull(regionId) || regionId === '') throw new Error('RegionId is empty, please set a valid RegionId');
    return `mongodb.${regionId}.aliyuncs.com`;
  }

  async describeDBInstanceAttributeWithOptions(
    request: $_model.DescribeDBInstanceAttributeRequest,
    runtime: $dara.RuntimeOptions,
  ): Promise<$_model.DescribeDBInstanceAttributeResponse> {
    return this.rpc('DescribeDBInstanceAttribute', request, runtime, new $_model.DescribeDBInstanceAttributeResponse({}));
  }

  async describeDBInstanceAttribute(request: $_model.DescribeDBInstanceAttributeRequest): Promise<$_model.DescribeDBInstanceAttributeResponse> {
    return this.describeDBInstanceAttributeWithOptions(request, new $dara.RuntimeOptions({}));
  }

  async describeDBInstancesWithOptions(
    request: $_model.DescribeDBInstancesRequest,
    runtime: $dara.RuntimeOptions,
  ): Promise<$_model.DescribeDBInstancesResponse> {
    return this.rpc('DescribeDBInstances', request, runtime, new $_model.DescribeDBInstancesResponse({}));
  }

  async describeDBInstances(request: $_model.DescribeDBInstancesRequest): Promise<$_model.DescribeDBInstancesResponse> {
    return this.describeDBInstancesWithOptions(request, new $dara.RuntimeOptions({}));
  }

  async resetAccountPasswordWithOptions(
    request: $_model.ResetAccountPasswordRequest,
    runtime: $dara.RuntimeOptions,
  ): Promise<$_model.ResetAccountPasswordResponse> {
    return this.rpc('ResetAccountPassword', request, runtime, new $_model.ResetAccountPasswordResponse({}));
  }

  async resetAccountPassword(request: $_model.ResetAccountPasswordRequest): Promise<$_model.ResetAccountPasswordResponse> {
    return this.resetAccountPasswordWithOptions(request, new $dara.RuntimeOptions({}));
  }

  /** What every generated RPC method does: validate, flatten the request into the query, call, cast. */
  private async rpc<T extends $dara.Model>(action: string, request: $dara.Model, runtime: $dara.RuntimeOptions, response: T): Promise<T> {
    request.validate();
    const req = new $OpenApiUtil.OpenApiRequest({ query: OpenApiUtil.query(request.toMap()) });
    const params = new $OpenApiUtil.Params({
      action,
      version: DDS_VERSION,
      protocol: 'HTTPS',
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    return $dara.cast<T>(await this.callApi(params, req, runtime), response);
  }
}

export { DdsClient };
