/**
 * Request and response models of DDS 2015-12-01 for the four actions we call, mirroring what
 * `@alicloud/dds20151201` generates (aliyun/alibabacloud-typescript-sdk `dds-20151201/src/models`): camelCase
 * fields, `names()` mapping them to the API's names, `types()` for casting. Fields are `declare`d: with
 * ES2022 class fields a plain declaration would reset what the Model constructor assigned.
 */
import * as $dara from '@darabonba/typescript';

type Names = { [key: string]: string };
type Types = { [key: string]: unknown };

abstract class Response<Body> extends $dara.Model {
  declare headers?: { [key: string]: string };
  declare statusCode?: number;
  declare body?: Body;
}

function responseTypes(body: unknown): Types {
  return { headers: { type: 'map', keyType: 'string', valueType: 'string' }, statusCode: 'number', body };
}

const RESPONSE_NAMES: Names = { headers: 'headers', statusCode: 'statusCode', body: 'body' };

export class Tag extends $dara.Model {
  declare key?: string;
  declare value?: string;
  static names(): Names {
    return { key: 'Key', value: 'Value' };
  }
  static types(): Types {
    return { key: 'string', value: 'string' };
  }
}

export class Tags extends $dara.Model {
  declare tag?: Tag[];
  static names(): Names {
    return { tag: 'Tag' };
  }
  static types(): Types {
    return { tag: { type: 'array', itemType: Tag } };
  }
}

// DescribeDBInstanceAttribute

export class DescribeDBInstanceAttributeRequest extends $dara.Model {
  declare DBInstanceId?: string;
  declare engine?: string;
  declare isDelete?: boolean;
  declare resourceGroupId?: string;
  static names(): Names {
    return { DBInstanceId: 'DBInstanceId', engine: 'Engine', isDelete: 'IsDelete', resourceGroupId: 'ResourceGroupId' };
  }
  static types(): Types {
    return { DBInstanceId: 'string', engine: 'string', isDelete: 'boolean', resourceGroupId: 'string' };
  }
  validate(): void {
    $dara.Model.validateRequired('DBInstanceId', this.DBInstanceId);
    super.validate();
  }
}

export class ReplicaSet extends $dara.Model {
  declare connectionDomain?: string;
  declare connectionPort?: string;
  declare networkType?: string;
  declare replicaSetRole?: string;
  static names(): Names {
    return { connectionDomain: 'ConnectionDomain', connectionPort: 'ConnectionPort', networkType: 'NetworkType', replicaSetRole: 'ReplicaSetRole' };
  }
  static types(): Types {
    return { connectionDomain: 'string', connectionPort: 'string', networkType: 'string', replicaSetRole: 'string' };
  }
}

export class ReplicaSets extends $dara.Model {
  declare replicaSet?: ReplicaSet[];
  static names(): Names {
    return { replicaSet: 'ReplicaSet' };
  }
  static types(): Types {
    return { replicaSet: { type: 'array', itemType: ReplicaSet } };
  }
}

/** The API spells the mongos address `ConnectSting`; `ConnectString` is kept for bodies that spell it right. */
export class MongosAttribute extends $dara.Model {
  declare nodeId?: string;
  declare connectSting?: string;
  declare connectString?: string;
  declare port?: number;
  declare status?: string;
  static names(): Names {
    return { nodeId: 'NodeId', connectSting: 'ConnectSting', connectString: 'ConnectString', port: 'Port', status: 'Status' };
  }
  static types(): Types {
    return { nodeId: 'string', connectSting: 'string', connectString: 'string', port: 'number', status: 'string' };
  }
}

export class MongosList extends $dara.Model {
  declare mongosAttribute?: MongosAttribute[];
  static names(): Names {
    return { mongosAttribute: 'MongosAttribute' };
  }
  static types(): Types {
    return { mongosAttribute: { type: 'array', itemType: MongosAttribute } };
  }
}

export class DBInstanceAttribute extends $dara.Model {
  declare DBInstanceId?: string;
  declare DBInstanceDescription?: string;
  declare DBInstanceType?: string;
  declare DBInstanceStatus?: string;
  declare lockMode?: string;
  declare engine?: string;
  declare engineVersion?: string;
  declare regionId?: string;
  declare zoneId?: string;
  declare tags?: Tags;
  declare replicaSets?: ReplicaSets;
  declare mongosList?: MongosList;
  static names(): Names {
    return {
      DBInstanceId: 'DBInstanceId',
      DBInstanceDescription: 'DBInstanceDescription',
      DBInstanceType: 'DBInstanceType',
      DBInstanceStatus: 'DBInstanceStatus',
      lockMode: 'LockMode',
      engine: 'Engine',
      engineVersion: 'EngineVersion',
      regionId: 'RegionId',
      zoneId: 'ZoneId',
      tags: 'Tags',
      replicaSets: 'ReplicaSets',
      mongosList: 'MongosList',
    };
  }
  static types(): Types {
    return {
      DBInstanceId: 'string',
      DBInstanceDescription: 'string',
      DBInstanceType: 'string',
      DBInstanceStatus: 'string',
      lockMode: 'string',
      engine: 'string',
      engineVersion: 'string',
      regionId: 'string',
      zoneId: 'string',
      tags: Tags,
      replicaSets: ReplicaSets,
      mongosList: MongosList,
    };
  }
}

export class DBInstanceAttributes extends $dara.Model {
  declare DBInstance?: DBInstanceAttribute[];
  static names(): Names {
    return { DBInstance: 'DBInstance' };
  }
  static types(): Types {
    return { DBInstance: { type: 'array', itemType: DBInstanceAttribute } };
  }
}

export class DescribeDBInstanceAttributeResponseBody extends $dara.Model {
  declare requestId?: string;
  declare DBInstances?: DBInstanceAttributes;
  static names(): Names {
    return { requestId: 'RequestId', DBInstances: 'DBInstances' };
  }
  static types(): Types {
    return { requestId: 'string', DBInstances: DBInstanceAttributes };
  }
}

export class DescribeDBInstanceAttributeResponse extends Response<DescribeDBInstanceAttributeResponseBody> {
  static names(): Names {
    return RESPONSE_NAMES;
  }
  static types(): Types {
    return responseTypes(DescribeDBInstanceAttributeResponseBody);
  }
}

// DescribeDBInstances

export class DescribeDBInstancesRequestTag extends $dara.Model {
  declare key?: string;
  declare value?: string;
  static names(): Names {
    return { key: 'Key', value: 'Value' };
  }
  static types(): Types {
    return { key: 'string', value: 'string' };
  }
}

export class DescribeDBInstancesRequest extends $dara.Model {
  declare regionId?: string;
  declare DBInstanceId?: string;
  declare DBInstanceType?: string;
  declare DBInstanceStatus?: string;
  declare engine?: string;
  declare pageNumber?: number;
  declare pageSize?: number;
  declare resourceGroupId?: string;
  declare tag?: DescribeDBInstancesRequestTag[];
  static names(): Names {
    return {
      regionId: 'RegionId',
      DBInstanceId: 'DBInstanceId',
      DBInstanceType: 'DBInstanceType',
      DBInstanceStatus: 'DBInstanceStatus',
      engine: 'Engine',
      pageNumber: 'PageNumber',
      pageSize: 'PageSize',
      resourceGroupId: 'ResourceGroupId',
      tag: 'Tag',
    };
  }
  static types(): Types {
    return {
      regionId: 'string',
      DBInstanceId: 'string',
      DBInstanceType: 'string',
      DBInstanceStatus: 'string',
      engine: 'string',
      pageNumber: 'number',
      pageSize: 'number',
      resourceGroupId: 'string',
      tag: { type: 'array', itemType: DescribeDBInstancesRequestTag },
    };
  }
  validate(): void {
    if (Array.isArray(this.tag)) $dara.Model.validateArray(this.tag);
    super.validate();
  }
}

export class DBInstanceSummary extends $dara.Model {
  declare DBInstanceId?: string;
  declare DBInstanceDescription?: string;
  declare DBInstanceType?: string;
  declare DBInstanceStatus?: string;
  declare lockMode?: string;
  declare engine?: string;
  declare engineVersion?: string;
  declare regionId?: string;
  declare tags?: Tags;
  static names(): Names {
    return {
      DBInstanceId: 'DBInstanceId',
      DBInstanceDescription: 'DBInstanceDescription',
      DBInstanceType: 'DBInstanceType',
      DBInstanceStatus: 'DBInstanceStatus',
      lockMode: 'LockMode',
      engine: 'Engine',
      engineVersion: 'EngineVersion',
      regionId: 'RegionId',
      tags: 'Tags',
    };
  }
  static types(): Types {
    return {
      DBInstanceId: 'string',
      DBInstanceDescription: 'string',
      DBInstanceType: 'string',
      DBInstanceStatus: 'string',
      lockMode: 'string',
      engine: 'string',
      engineVersion: 'string',
      regionId: 'string',
      tags: Tags,
    };
  }
}

export class DBInstanceSummaries extends $dara.Model {
  declare DBInstance?: DBInstanceSummary[];
  static names(): Names {
    return { DBInstance: 'DBInstance' };
  }
  static types(): Types {
    return { DBInstance: { type: 'array', itemType: DBInstanceSummary } };
  }
}

export class DescribeDBInstancesResponseBody extends $dara.Model {
  declare requestId?: string;
  declare pageNumber?: number;
  declare pageSize?: number;
  declare totalCount?: number;
  declare DBInstances?: DBInstanceSummaries;
  static names(): Names {
    return { requestId: 'RequestId', pageNumber: 'PageNumber', pageSize: 'PageSize', totalCount: 'TotalCount', DBInstances: 'DBInstances' };
  }
  static types(): Types {
    return { requestId: 'string', pageNumber: 'number', pageSize: 'number', totalCount: 'number', DBInstances: DBInstanceSummaries };
  }
}

export class DescribeDBInstancesResponse extends Response<DescribeDBInstancesResponseBody> {
  static names(): Names {
    return RESPONSE_NAMES;
  }
  static types(): Types {
    return responseTypes(DescribeDBInstancesResponseBody);
  }
}

// ResetAccountPassword

export class ResetAccountPasswordRequest extends $dara.Model {
  declare DBInstanceId?: string;
  declare accountName?: string;
  declare accountPassword?: string;
  declare characterType?: string;
  static names(): Names {
    return { DBInstanceId: 'DBInstanceId', accountName: 'AccountName', accountPassword: 'AccountPassword', characterType: 'CharacterType' };
  }
  static types(): Types {
    return { DBInstanceId: 'string', accountName: 'string', accountPassword: 'string', characterType: 'string' };
  }
  validate(): void {
    $dara.Model.validateRequired('DBInstanceId', this.DBInstanceId);
    $dara.Model.validateRequired('AccountName', this.accountName);
    $dara.Model.validateRequired('AccountPassword', this.accountPassword);
    super.validate();
  }
}

export class ResetAccountPasswordResponseBody extends $dara.Model {
  declare requestId?: string;
  static names(): Names {
    return { requestId: 'RequestId' };
  }
  static types(): Types {
    return { requestId: 'string' };
  }
}

export class ResetAccountPasswordResponse extends Response<ResetAccountPasswordResponseBody> {
  static names(): Names {
    return RESPONSE_NAMES;
  }
  static types(): Types {
    return responseTypes(ResetAccountPasswordResponseBody);
  }
}
