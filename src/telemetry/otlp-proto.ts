/**
 * OTLP metrics in protobuf (what `http/protobuf` and `grpc` exporters send), decoded into the
 * same object shape as OTLP JSON so that one TokenCounter reads both. The descriptor below is
 * only the part of opentelemetry-proto's ExportMetricsServiceRequest that counting needs (field
 * numbers as in metrics/v1/metrics.proto and common/v1/common.proto); everything else in a
 * message is skipped by the decoder as unknown fields. protobufjs is loaded on first use: most
 * sessions export JSON and never pay for it.
 */
import type * as Protobuf from 'protobufjs';

const field = (id: number, type: string, rule?: 'repeated') => ({ id, type, ...(rule ? { rule } : {}) });

const DESCRIPTOR = {
  nested: {
    ExportMetricsServiceRequest: { fields: { resourceMetrics: field(1, 'ResourceMetrics', 'repeated') } },
    ResourceMetrics: { fields: { resource: field(1, 'Resource'), scopeMetrics: field(2, 'ScopeMetrics', 'repeated') } },
    Resource: { fields: { attributes: field(1, 'KeyValue', 'repeated') } },
    ScopeMetrics: { fields: { metrics: field(2, 'Metric', 'repeated') } },
    Metric: { fields: { name: field(1, 'string'), unit: field(3, 'string'), sum: field(7, 'Sum') } },
    Sum: { fields: { dataPoints: field(1, 'NumberDataPoint', 'repeated'), aggregationTemporality: field(2, 'int32'), isMonotonic: field(3, 'bool') } },
    NumberDataPoint: { fields: { attributes: field(7, 'KeyValue', 'repeated'), asDouble: field(4, 'double'), asInt: field(6, 'sfixed64') } },
    KeyValue: { fields: { key: field(1, 'string'), value: field(2, 'AnyValue') } },
    AnyValue: { fields: { stringValue: field(1, 'string'), boolValue: field(2, 'bool'), intValue: field(3, 'int64'), doubleValue: field(4, 'double') } },
  },
};

let request: Protobuf.Type | undefined;

async function requestType(): Promise<Protobuf.Type> {
  if (!request) {
    const { default: protobuf } = await import('protobufjs/light.js');
    request = protobuf.Root.fromJSON(DESCRIPTOR).lookupType('ExportMetricsServiceRequest');
  }
  return request;
}

/**
 * An ExportMetricsServiceRequest as the plain object OTLP JSON would give (64-bit integers as
 * strings); undefined when the bytes are not a valid message.
 */
export async function decodeMetricsRequest(bytes: Uint8Array): Promise<unknown> {
  const type = await requestType();
  try {
    return type.toObject(type.decode(bytes), { longs: String, defaults: false });
  } catch {
    return undefined;
  }
}

/** The inverse, for tests and for anything that must produce protobuf from the JSON shape. */
export async function encodeMetricsRequest(payload: object): Promise<Uint8Array> {
  const type = await requestType();
  return type.encode(type.fromObject(payload)).finish();
}
