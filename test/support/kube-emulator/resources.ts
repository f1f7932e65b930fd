/**
 * The resources the emulator serves, and the discovery documents that describe them
 * (GET /api, /api/v1, /apis, /apis/networking.k8s.io/v1, /version).
 */

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export type NameRule = 'subdomain' | 'label' | 'dns1035';

export interface ResourceDef {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: Verb[];
  /** How metadata.name is validated (RFC 1123 subdomain, RFC 1123 label, RFC 1035 label). */
  nameRule: NameRule;
  /** Subresources served (others are not understood). */
  subresources: string[];
  /** DELETE answers with the object (pods, services...) rather than a Success Status. */
  deleteReturnsObject: boolean;
  /** Field selector labels besides metadata.name and metadata.namespace. */
  fieldSelectors: string[];
  /** Whether the object has a status the server keeps (a PUT to the object ignores it). */
  hasStatus: boolean;
  /** Top-level fields besides apiVersion, kind and metadata (others are dropped with a warning). */
  fields: string[];
}

const ALL: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const core = (d: Omit<ResourceDef, 'group' | 'version'>): ResourceDef => ({ group: '', version: 'v1', ...d });

export const RESOURCES: ResourceDef[] = [
  core({
    plural: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    nameRule: 'label',
    subresources: ['status'],
    deleteReturnsObject: true,
    fieldSelectors: ['status.phase'],
    hasStatus: true,
    fields: ['spec', 'status'],
  }),
  core({
    plural: 'nodes',
    singular: 'node',
    kind: 'Node',
    namespaced: false,
    shortNames: ['no'],
    verbs: ['get', 'list', 'watch'],
    nameRule: 'subdomain',
    subresources: ['status'],
    deleteReturnsObject: true,
    fieldSelectors: ['spec.unschedulable'],
    hasStatus: true,
    fields: ['spec', 'status'],
  }),
  core({
    plural: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    verbs: ALL,
    nameRule: 'subdomain',
    subresources: ['status', 'log', 'exec', 'attach', 'portforward'],
    deleteReturnsObject: true,
    fieldSelectors: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
    hasStatus: true,
    fields: ['spec', 'status'],
  }),
  core({
    plural: 'services',
    singular: 'service',
    kind: 'Service',
    namespaced: true,
    shortNames: ['svc'],
    verbs: ALL,
    nameRule: 'dns1035',
    subresources: ['status'],
    deleteReturnsObject: true,
    fieldSelectors: ['spec.clusterIP', 'spec.type'],
    hasStatus: true,
    fields: ['spec', 'status'],
  }),
  core({
    plural: 'secrets',
    singular: 'secret',
    kind: 'Secret',
    namespaced: true,
    shortNames: [],
    verbs: ALL,
    nameRule: 'subdomain',
    subresources: [],
    deleteReturnsObject: false,
    fieldSelectors: ['type'],
    hasStatus: false,
    fields: ['data', 'stringData', 'type', 'immutable'],
  }),
  core({
    plural: 'configmaps',
    singular: 'configmap',
    kind: 'ConfigMap',
    namespaced: true,
    shortNames: ['cm'],
    verbs: ALL,
    nameRule: 'subdomain',
    subresources: [],
    deleteReturnsObject: false,
    fieldSelectors: [],
    hasStatus: false,
    fields: ['data', 'binaryData', 'immutable'],
  }),
  core({
    plural: 'persistentvolumeclaims',
    singular: 'persistentvolumeclaim',
    kind: 'PersistentVolumeClaim',
    namespaced: true,
    shortNames: ['pvc'],
    verbs: ALL,
    nameRule: 'subdomain',
    subresources: ['status'],
    deleteReturnsObject: true,
    fieldSelectors: [],
    hasStatus: true,
    fields: ['spec', 'status'],
  }),
  core({
    plural: 'events',
    singular: 'event',
    kind: 'Event',
    namespaced: true,
    shortNames: ['ev'],
    verbs: ALL,
    nameRule: 'subdomain',
    subresources: [],
    deleteReturnsObject: false,
    fieldSelectors: [
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
    ],
    hasStatus: false,
    fields: ['involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'series', 'action', 'related', 'reportingComponent', 'reportingInstance'],
  }),
  {
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'networkpolicies',
    singular: 'networkpolicy',
    kind: 'NetworkPolicy',
    namespaced: true,
    shortNames: ['netpol'],
    verbs: ALL,
    nameRule: 'subdomain',
    subresources: [],
    deleteReturnsObject: false,
    fieldSelectors: [],
    hasStatus: false,
    fields: ['spec'],
  },
];

export const apiVersionOf = (r: Pick<ResourceDef, 'group' | 'version'>): string => (r.group ? `${r.group}/${r.version}` : r.version);

export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function resourceByKind(kind: string): ResourceDef {
  const r = RESOURCES.find((x) => x.kind === kind);
  if (!r) throw new Error(`no resource of kind ${kind}`);
  return r;
}

export const GROUPS = [{ name: 'networking.k8s.io', version: 'v1' }];

/** Verbs a subresource answers (as discovery lists them). */
const SUBRESOURCE_VERBS: Record<string, Verb[]> = {
  status: ['get', 'patch', 'update'],
  log: ['get'],
  exec: ['create', 'get'],
  attach: ['create', 'get'],
  portforward: ['create', 'get'],
};

/** The APIResourceList of one group version (GET /api/v1, /apis/<group>/<version>). */
export function resourceList(group: string, version: string): Record<string, unknown> {
  const resources: Array<Record<string, unknown>> = [];
  for (const r of RESOURCES.filter((x) => x.group === group && x.version === version)) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      storageVersionHash: Buffer.from(`${r.group}/${r.version}/${r.kind}`).toString('base64').slice(0, 11),
    });
    for (const sub of r.subresources) {
      resources.push({
        name: `${r.plural}/${sub}`,
        singularName: '',
        namespaced: r.namespaced,
        kind: sub === 'status' ? r.kind : sub === 'log' ? r.kind : `${r.kind}${sub[0]?.toUpperCase() ?? ''}${sub.slice(1)}Options`,
        verbs: SUBRESOURCE_VERBS[sub] ?? [],
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(name: string, version: string): Record<string, unknown> {
  const gv = { groupVersion: `${name}/${version}`, version };
  return { name, versions: [gv], preferredVersion: gv };
}

export function apiGroupList(): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.map((g) => apiGroup(g.name, g.version)) };
}

export function apiGroupDoc(name: string): Record<string, unknown> | undefined {
  const g = GROUPS.find((x) => x.name === name);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g.name, g.version) } : undefined;
}

export const VERSION_INFO = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.0-emulator',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-08-13T00:00:00Z',
  goVersion: 'go1.22.5',
  compiler: 'gc',
  platform: 'linux/amd64',
};
