/**
 * Decoding checks (400 BadRequest: wrong JSON types, bad base64, bad quantities), defaulting
 * (what the API server fills in) and validation (422 Invalid, with the server's field paths and
 * wording) of the objects the emulator stores. Also the list of pod features the emulator does
 * not run: a pod asking for one is refused with 501 rather than run differently.
 */
import { badRequest, invalid, type ApiError, type FieldError } from './errors.js';
import type { ResourceDef } from './resources.js';
import { cidrStrictlyWithin, configKey, dns1035Label, dns1123Label, dns1123Subdomain, envVarName, isIPAddress, labelValue, parseCidr, parseQuantity, portName, qualifiedName, QUANTITY_ERROR, validPort } from './validation-rules.js';
import { deepEqual, isRecord, type KubeObject } from './types.js';

type Obj = Record<string, unknown>;

/** A wrong JSON type: the server fails to decode the body (400), naming the Go field. */
function decodeError(def: ResourceDef, path: string, got: unknown, want: string): ApiError {
  const gotType = Array.isArray(got) ? 'array' : got === null ? 'null' : typeof got === 'object' ? 'object' : typeof got;
  return badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: json: cannot unmarshal ${gotType} into Go struct field ${path} of type ${want}`);
}

/** Typed accessors that throw decode errors on wrong types (absent is fine: undefined). */
class Reader {
  constructor(readonly def: ResourceDef) {}
  obj(v: unknown, path: string): Obj | undefined {
    if (v === undefined || v === null) return undefined;
    if (!isRecord(v)) throw decodeError(this.def, path, v, 'object');
    return v;
  }
  arr(v: unknown, path: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw decodeError(this.def, path, v, '[]');
    return v;
  }
  objs(v: unknown, path: string): Obj[] {
    return this.arr(v, path).map((x, i) => this.obj(x, `${path}[${i}]`) ?? {});
  }
  str(v: unknown, path: string): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw decodeError(this.def, path, v, 'string');
    return v;
  }
  strs(v: unknown, path: string): string[] {
    return this.arr(v, path).map((x) => this.str(x, path) ?? '');
  }
  int(v: unknown, path: string): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw decodeError(this.def, path, v, 'int64');
    return v;
  }
  bool(v: unknown, path: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw decodeError(this.def, path, v, 'bool');
    return v;
  }
  strMap(v: unknown, path: string): Record<string, string> {
    const o = this.obj(v, path) ?? {};
    for (const [, x] of Object.entries(o)) if (typeof x !== 'string') throw decodeError(this.def, path, x, 'string');
    return o as Record<string, string>;
  }
  /** An int or a string (intstr.IntOrString). */
  intOrString(v: unknown, path: string): number | string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v === 'string') return v;
    throw decodeError(this.def, path, v, 'intstr.IntOrString');
  }
  quantity(v: unknown, path: string): number | undefined {
    if (v === undefined || v === null) return undefined;
    const q = parseQuantity(v);
    if (q === undefined) throw badRequest(`${this.def.kind} in version "${this.def.version}" cannot be handled as a ${this.def.kind}: ${QUANTITY_ERROR} (${path}: ${JSON.stringify(v)})`);
    return q;
  }
}

/** A JSON value in a message (strings as they are). */
const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

const push = (errs: FieldError[], field: string, value: unknown, problems: string[]): void => {
  for (const detail of problems) errs.push({ type: 'Invalid', field, value, detail });
};

// ---------------------------------------------------------------------------------------------
// Metadata

export function nameProblems(def: ResourceDef, name: string): string[] {
  if (def.nameRule === 'label') return dns1123Label(name);
  if (def.nameRule === 'dns1035') return dns1035Label(name);
  return dns1123Subdomain(name);
}

function validateMeta(r: Reader, def: ResourceDef, o: KubeObject, errs: FieldError[]): void {
  const m = r.obj(o.metadata, 'ObjectMeta.metadata') ?? {};
  const name = r.str(m.name, 'ObjectMeta.metadata.name');
  if (!name) errs.push({ type: 'Required', field: 'metadata.name', detail: 'name or generateName is required' });
  else push(errs, 'metadata.name', name, nameProblems(def, name));
  const ns = r.str(m.namespace, 'ObjectMeta.metadata.namespace');
  if (!def.namespaced && ns) errs.push({ type: 'Forbidden', field: 'metadata.namespace', detail: 'not allowed on this type' });
  for (const [k, v] of Object.entries(r.strMap(m.labels, 'ObjectMeta.metadata.labels'))) {
    push(errs, 'metadata.labels', k, qualifiedName(k));
    push(errs, 'metadata.labels', v, labelValue(v));
  }
  const annotations = r.strMap(m.annotations, 'ObjectMeta.metadata.annotations');
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    push(errs, 'metadata.annotations', k, qualifiedName(k.toLowerCase()));
    size += k.length + v.length;
  }
  if (size > 256 * 1024) errs.push({ type: 'TooLong', field: 'metadata.annotations', detail: 'must have at most 262144 bytes' });
  r.strs(m.finalizers, 'ObjectMeta.metadata.finalizers').forEach((f, i) => push(errs, `metadata.finalizers[${i}]`, f, qualifiedName(f)));
  r.objs(m.ownerReferences, 'ObjectMeta.metadata.ownerReferences').forEach((ref, i) => {
    for (const f of ['apiVersion', 'kind', 'name', 'uid']) if (!r.str(ref[f], `OwnerReference.metadata.ownerReferences.${f}`)) errs.push({ type: 'Required', field: `metadata.ownerReferences[${i}].${f}` });
  });
}

function validateSelectorObject(r: Reader, sel: Obj | undefined, path: string, errs: FieldError[]): void {
  if (!sel) return;
  for (const [k, v] of Object.entries(r.strMap(sel.matchLabels, 'LabelSelector.matchLabels'))) {
    push(errs, `${path}.matchLabels`, k, qualifiedName(k));
    push(errs, `${path}.matchLabels`, v, labelValue(v));
  }
  r.objs(sel.matchExpressions, 'LabelSelector.matchExpressions').forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const key = r.str(e.key, 'LabelSelectorRequirement.key') ?? '';
    push(errs, `${p}.key`, key, qualifiedName(key));
    const op = r.str(e.operator, 'LabelSelectorRequirement.operator');
    const values = r.strs(e.values, 'LabelSelectorRequirement.values');
    if (op === 'In' || op === 'NotIn') {
      if (values.length === 0) errs.push({ type: 'Required', field: `${p}.values`, detail: 'must be specified when `operator` is \'In\' or \'NotIn\'' });
    } else if (op === 'Exists' || op === 'DoesNotExist') {
      if (values.length > 0) errs.push({ type: 'Forbidden', field: `${p}.values`, detail: 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\'' });
    } else errs.push({ type: 'Invalid', field: `${p}.operator`, value: op ?? '', detail: 'not a valid selector operator' });
    values.forEach((v, j) => push(errs, `${p}.values[${j}]`, v, labelValue(v)));
  });
}

// ---------------------------------------------------------------------------------------------
// Pods

const IMAGE_PULL = ['Always', 'IfNotPresent', 'Never'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const VOLUME_TYPES = ['emptyDir', 'persistentVolumeClaim', 'secret', 'configMap', 'hostPath', 'projected', 'downwardAPI', 'csi', 'ephemeral', 'nfs', 'iscsi', 'image', 'gitRepo', 'glusterfs', 'rbd', 'cephfs', 'fc', 'flocker', 'azureFile', 'azureDisk', 'vsphereVolume', 'quobyte', 'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos', 'awsElasticBlockStore', 'gcePersistentDisk', 'cinder', 'flexVolume'];

function validateMode(r: Reader, v: unknown, field: string, errs: FieldError[]): void {
  const mode = r.int(v, field);
  if (mode !== undefined && (mode < 0 || mode > 0o777)) errs.push({ type: 'Invalid', field, value: mode, detail: 'must be a number between 0 and 0777 (octal), both inclusive' });
}

function validateKeyToPaths(r: Reader, items: Obj[], path: string, errs: FieldError[]): void {
  items.forEach((it, i) => {
    const p = `${path}.items[${i}]`;
    if (!r.str(it.key, 'KeyToPath.key')) errs.push({ type: 'Required', field: `${p}.key` });
    validateRelativePath(r.str(it.path, 'KeyToPath.path'), `${p}.path`, errs, true);
    validateMode(r, it.mode, `${p}.mode`, errs);
  });
}

function validateRelativePath(p: string | undefined, field: string, errs: FieldError[], required: boolean): void {
  if (p === undefined || p === '') {
    if (required) errs.push({ type: 'Required', field });
    return;
  }
  if (p.startsWith('/')) errs.push({ type: 'Invalid', field, value: p, detail: 'must be a relative path' });
  if (p.split('/').includes('..')) errs.push({ type: 'Invalid', field, value: p, detail: "must not contain '..'" });
}

function validateVolumes(r: Reader, volumes: Obj[], errs: FieldError[]): Set<string> {
  const names = new Set<string>();
  volumes.forEach((v, i) => {
    const p = `spec.volumes[${i}]`;
    const name = r.str(v.name, 'Volume.spec.volumes.name');
    if (!name) errs.push({ type: 'Required', field: `${p}.name` });
    else {
      push(errs, `${p}.name`, name, dns1123Label(name));
      if (names.has(name)) errs.push({ type: 'Duplicate', field: `${p}.name`, value: name });
      names.add(name);
    }
    const types = VOLUME_TYPES.filter((t) => v[t] !== undefined && v[t] !== null);
    if (types.length === 0) errs.push({ type: 'Required', field: p, detail: 'must specify a volume type' });
    if (types.length > 1) errs.push({ type: 'Forbidden', field: `${p}.${types[1] ?? ''}`, detail: 'may not specify more than 1 volume type' });
    const secret = r.obj(v.secret, 'Volume.spec.volumes.secret');
    if (secret) {
      const sn = r.str(secret.secretName, 'SecretVolumeSource.secretName');
      if (!sn) errs.push({ type: 'Required', field: `${p}.secret.secretName` });
      else push(errs, `${p}.secret.secretName`, sn, dns1123Subdomain(sn));
      validateMode(r, secret.defaultMode, `${p}.secret.defaultMode`, errs);
      validateKeyToPaths(r, r.objs(secret.items, 'SecretVolumeSource.items'), `${p}.secret`, errs);
      r.bool(secret.optional, 'SecretVolumeSource.optional');
    }
    const cm = r.obj(v.configMap, 'Volume.spec.volumes.configMap');
    if (cm) {
      const n = r.str(cm.name, 'ConfigMapVolumeSource.name');
      if (!n) errs.push({ type: 'Required', field: `${p}.configMap.name` });
      else push(errs, `${p}.configMap.name`, n, dns1123Subdomain(n));
      validateMode(r, cm.defaultMode, `${p}.configMap.defaultMode`, errs);
      validateKeyToPaths(r, r.objs(cm.items, 'ConfigMapVolumeSource.items'), `${p}.configMap`, errs);
      r.bool(cm.optional, 'ConfigMapVolumeSource.optional');
    }
    const pvc = r.obj(v.persistentVolumeClaim, 'Volume.spec.volumes.persistentVolumeClaim');
    if (pvc) {
      if (!r.str(pvc.claimName, 'PersistentVolumeClaimVolumeSource.claimName')) errs.push({ type: 'Required', field: `${p}.persistentVolumeClaim.claimName` });
      r.bool(pvc.readOnly, 'PersistentVolumeClaimVolumeSource.readOnly');
    }
    const ed = r.obj(v.emptyDir, 'Volume.spec.volumes.emptyDir');
    if (ed) {
      const medium = r.str(ed.medium, 'EmptyDirVolumeSource.medium') ?? '';
      if (!['', 'Memory', 'HugePages'].includes(medium) && !medium.startsWith('HugePages-')) errs.push({ type: 'NotSupported', field: `${p}.emptyDir.medium`, value: medium, supported: ['', 'Memory', 'HugePages'] });
      const size = r.quantity(ed.sizeLimit, 'EmptyDirVolumeSource.sizeLimit');
      if (size !== undefined && size < 0) errs.push({ type: 'Invalid', field: `${p}.emptyDir.sizeLimit`, value: ed.sizeLimit, detail: 'must be greater than or equal to 0' });
    }
    const hp = r.obj(v.hostPath, 'Volume.spec.volumes.hostPath');
    if (hp) {
      const hpPath = r.str(hp.path, 'HostPathVolumeSource.path');
      if (!hpPath) errs.push({ type: 'Required', field: `${p}.hostPath.path` });
      const t = r.str(hp.type, 'HostPathVolumeSource.type');
      const types2 = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];
      if (t !== undefined && !types2.includes(t)) errs.push({ type: 'NotSupported', field: `${p}.hostPath.type`, value: t, supported: types2.slice(1) });
    }
  });
  return names;
}

function validateEnvSource(r: Reader, c: Obj, p: string, errs: FieldError[]): void {
  r.objs(c.env, 'Container.spec.containers.env').forEach((e, i) => {
    const ep = `${p}.env[${i}]`;
    const name = r.str(e.name, 'EnvVar.spec.containers.env.name');
    if (!name) errs.push({ type: 'Required', field: `${ep}.name` });
    else push(errs, `${ep}.name`, name, envVarName(name));
    r.str(e.value, 'EnvVar.spec.containers.env.value');
    const from = r.obj(e.valueFrom, 'EnvVar.spec.containers.env.valueFrom');
    if (from) {
      if (e.value !== undefined && e.value !== '') errs.push({ type: 'Invalid', field: `${ep}.valueFrom`, value: '', detail: 'may not be specified when `value` is not empty' });
      const sources = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'fileKeyRef'].filter((k) => from[k] !== undefined && from[k] !== null);
      if (sources.length !== 1) errs.push({ type: 'Invalid', field: `${ep}.valueFrom`, value: '', detail: 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`' });
      for (const k of ['configMapKeyRef', 'secretKeyRef']) {
        const ref = r.obj(from[k], `EnvVarSource.${k}`);
        if (!ref) continue;
        if (!r.str(ref.name, `${k}.name`)) errs.push({ type: 'Required', field: `${ep}.valueFrom.${k}.name` });
        const key = r.str(ref.key, `${k}.key`);
        if (!key) errs.push({ type: 'Required', field: `${ep}.valueFrom.${k}.key` });
        else push(errs, `${ep}.valueFrom.${k}.key`, key, configKey(key));
        r.bool(ref.optional, `${k}.optional`);
      }
      const fr = r.obj(from.fieldRef, 'EnvVarSource.fieldRef');
      if (fr && !r.str(fr.fieldPath, 'ObjectFieldSelector.fieldPath')) errs.push({ type: 'Required', field: `${ep}.valueFrom.fieldRef.fieldPath` });
    }
  });
  r.objs(c.envFrom, 'Container.spec.containers.envFrom').forEach((e, i) => {
    const ep = `${p}.envFrom[${i}]`;
    const refs = ['configMapRef', 'secretRef'].filter((k) => e[k] !== undefined && e[k] !== null);
    if (refs.length !== 1) errs.push({ type: 'Invalid', field: ep, value: '', detail: 'must specify one of: `configMapRef` or `secretRef`' });
    for (const k of refs) {
      const ref = r.obj(e[k], `EnvFromSource.${k}`) ?? {};
      if (!r.str(ref.name, `${k}.name`)) errs.push({ type: 'Required', field: `${ep}.${k}.name` });
    }
    const prefix = r.str(e.prefix, 'EnvFromSource.prefix');
    if (prefix) push(errs, `${ep}.prefix`, prefix, envVarName(prefix));
  });
}

function validateContainer(r: Reader, c: Obj, p: string, volumes: Set<string>, errs: FieldError[]): void {
  const name = r.str(c.name, 'Container.spec.containers.name');
  if (!name) errs.push({ type: 'Required', field: `${p}.name` });
  else push(errs, `${p}.name`, name, dns1123Label(name));
  const image = r.str(c.image, 'Container.spec.containers.image');
  if (!image || image.trim() === '') errs.push({ type: 'Required', field: `${p}.image` });
  else if (image !== image.trim()) errs.push({ type: 'Invalid', field: `${p}.image`, value: image, detail: 'must not have leading or trailing whitespace' });
  r.strs(c.command, 'Container.spec.containers.command');
  r.strs(c.args, 'Container.spec.containers.args');
  r.str(c.workingDir, 'Container.spec.containers.workingDir');
  r.bool(c.stdin, 'Container.spec.containers.stdin');
  r.bool(c.stdinOnce, 'Container.spec.containers.stdinOnce');
  r.bool(c.tty, 'Container.spec.containers.tty');
  const pull = r.str(c.imagePullPolicy, 'Container.spec.containers.imagePullPolicy');
  if (pull !== undefined && !IMAGE_PULL.includes(pull)) errs.push({ type: 'NotSupported', field: `${p}.imagePullPolicy`, value: pull, supported: IMAGE_PULL });
  const portNames = new Set<string>();
  r.objs(c.ports, 'Container.spec.containers.ports').forEach((port, i) => {
    const pp = `${p}.ports[${i}]`;
    const cp = r.int(port.containerPort, 'ContainerPort.spec.containers.ports.containerPort');
    if (cp === undefined) errs.push({ type: 'Required', field: `${pp}.containerPort` });
    else if (!validPort(cp)) errs.push({ type: 'Invalid', field: `${pp}.containerPort`, value: cp, detail: 'must be between 1 and 65535, inclusive' });
    const pn = r.str(port.name, 'ContainerPort.spec.containers.ports.name');
    if (pn) {
      push(errs, `${pp}.name`, pn, portName(pn));
      if (portNames.has(pn)) errs.push({ type: 'Duplicate', field: `${pp}.name`, value: pn });
      portNames.add(pn);
    }
    const proto = r.str(port.protocol, 'ContainerPort.spec.containers.ports.protocol');
    if (proto !== undefined && !PROTOCOLS.includes(proto)) errs.push({ type: 'NotSupported', field: `${pp}.protocol`, value: proto, supported: PROTOCOLS });
  });
  validateEnvSource(r, c, p, errs);
  const res = r.obj(c.resources, 'Container.spec.containers.resources') ?? {};
  const limits = r.obj(res.limits, 'ResourceRequirements.limits') ?? {};
  const requests = r.obj(res.requests, 'ResourceRequirements.requests') ?? {};
  const lim: Record<string, number> = {};
  for (const [k, v] of Object.entries(limits)) {
    const q = r.quantity(v, `${p}.resources.limits[${k}]`);
    if (q !== undefined) lim[k] = q;
    if (q !== undefined && q < 0) errs.push({ type: 'Invalid', field: `${p}.resources.limits[${k}]`, value: v, detail: 'must be greater than or equal to 0' });
  }
  for (const [k, v] of Object.entries(requests)) {
    const q = r.quantity(v, `${p}.resources.requests[${k}]`);
    if (q !== undefined && q < 0) errs.push({ type: 'Invalid', field: `${p}.resources.requests[${k}]`, value: v, detail: 'must be greater than or equal to 0' });
    const l = lim[k];
    if (q !== undefined && l !== undefined && q > l) errs.push({ type: 'Invalid', field: `${p}.resources.requests`, value: v, detail: `must be less than or equal to ${k} limit of ${String(limits[k])}` });
  }
  const mountPaths = new Set<string>();
  r.objs(c.volumeMounts, 'Container.spec.containers.volumeMounts').forEach((m, i) => {
    const mp = `${p}.volumeMounts[${i}]`;
    const vn = r.str(m.name, 'VolumeMount.name');
    if (!vn) errs.push({ type: 'Required', field: `${mp}.name` });
    else if (!volumes.has(vn)) errs.push({ type: 'NotFound', field: `${mp}.name`, value: vn });
    const path = r.str(m.mountPath, 'VolumeMount.mountPath');
    if (!path) errs.push({ type: 'Required', field: `${mp}.mountPath` });
    else {
      if (mountPaths.has(path)) errs.push({ type: 'Invalid', field: `${mp}.mountPath`, value: path, detail: 'must be unique' });
      mountPaths.add(path);
    }
    r.bool(m.readOnly, 'VolumeMount.readOnly');
    validateRelativePath(r.str(m.subPath, 'VolumeMount.subPath'), `${mp}.subPath`, errs, false);
  });
  const sc = r.obj(c.securityContext, 'Container.spec.containers.securityContext');
  if (sc) {
    validateSecurityIds(r, sc, `${p}.securityContext`, errs);
    if (r.bool(sc.privileged, 'SecurityContext.privileged')) errs.push({ type: 'Forbidden', field: `${p}.securityContext.privileged`, detail: 'disallowed by cluster policy' });
    const ape = r.bool(sc.allowPrivilegeEscalation, 'SecurityContext.allowPrivilegeEscalation');
    const caps = r.obj(sc.capabilities, 'SecurityContext.capabilities') ?? {};
    const add = r.strs(caps.add, 'Capabilities.add');
    r.strs(caps.drop, 'Capabilities.drop');
    if (ape === false && add.some((x) => x.replace(/^CAP_/, '') === 'SYS_ADMIN')) errs.push({ type: 'Invalid', field: `${p}.securityContext`, value: 'SYS_ADMIN', detail: 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN' });
    r.bool(sc.readOnlyRootFilesystem, 'SecurityContext.readOnlyRootFilesystem');
  }
}

function validateSecurityIds(r: Reader, sc: Obj, p: string, errs: FieldError[]): void {
  for (const f of ['runAsUser', 'runAsGroup']) {
    const id = r.int(sc[f], `SecurityContext.${f}`);
    if (id !== undefined && (id < 0 || id > 2147483647)) errs.push({ type: 'Invalid', field: `${p}.${f}`, value: id, detail: 'must be between 0 and 2147483647, inclusive' });
  }
  r.bool(sc.runAsNonRoot, 'SecurityContext.runAsNonRoot');
  const sp = r.obj(sc.seccompProfile, 'SecurityContext.seccompProfile');
  if (sp) {
    const t = r.str(sp.type, 'SeccompProfile.type');
    if (!t) errs.push({ type: 'Required', field: `${p}.seccompProfile.type` });
    else if (!['RuntimeDefault', 'Unconfined', 'Localhost'].includes(t)) errs.push({ type: 'NotSupported', field: `${p}.seccompProfile.type`, value: t, supported: ['Localhost', 'RuntimeDefault', 'Unconfined'] });
  }
}

function validatePod(r: Reader, o: KubeObject, errs: FieldError[]): void {
  const spec = r.obj(o.spec, 'Pod.spec');
  if (!spec) {
    errs.push({ type: 'Required', field: 'spec.containers' });
    return;
  }
  const volumes = validateVolumes(r, r.objs(spec.volumes, 'PodSpec.spec.volumes'), errs);
  const containers = r.objs(spec.containers, 'PodSpec.spec.containers');
  if (containers.length === 0) errs.push({ type: 'Required', field: 'spec.containers' });
  const names = new Set<string>();
  containers.forEach((c, i) => {
    validateContainer(r, c, `spec.containers[${i}]`, volumes, errs);
    const n = typeof c.name === 'string' ? c.name : '';
    if (n && names.has(n)) errs.push({ type: 'Duplicate', field: `spec.containers[${i}].name`, value: n });
    names.add(n);
  });
  const policy = r.str(spec.restartPolicy, 'PodSpec.spec.restartPolicy');
  if (policy !== undefined && !['Always', 'OnFailure', 'Never'].includes(policy)) errs.push({ type: 'NotSupported', field: 'spec.restartPolicy', value: policy, supported: ['Always', 'OnFailure', 'Never'] });
  const dns = r.str(spec.dnsPolicy, 'PodSpec.spec.dnsPolicy');
  if (dns !== undefined && !['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'].includes(dns)) errs.push({ type: 'NotSupported', field: 'spec.dnsPolicy', value: dns, supported: ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] });
  for (const [k, v] of Object.entries(r.strMap(spec.nodeSelector, 'PodSpec.spec.nodeSelector'))) {
    push(errs, 'spec.nodeSelector', k, qualifiedName(k));
    push(errs, 'spec.nodeSelector', v, labelValue(v));
  }
  const grace = r.int(spec.terminationGracePeriodSeconds, 'PodSpec.spec.terminationGracePeriodSeconds');
  if (grace !== undefined && grace < 0) errs.push({ type: 'Invalid', field: 'spec.terminationGracePeriodSeconds', value: grace, detail: 'must be greater than or equal to 0' });
  r.objs(spec.hostAliases, 'PodSpec.spec.hostAliases').forEach((h, i) => {
    const ip = r.str(h.ip, 'HostAlias.ip') ?? '';
    if (!isIPAddress(ip)) errs.push({ type: 'Invalid', field: `spec.hostAliases[${i}].ip`, value: ip, detail: 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)' });
    r.strs(h.hostnames, 'HostAlias.hostnames').forEach((hn, j) => push(errs, `spec.hostAliases[${i}].hostnames[${j}]`, hn, dns1123Subdomain(hn)));
  });
  const psc = r.obj(spec.securityContext, 'PodSpec.spec.securityContext');
  if (psc) {
    validateSecurityIds(r, psc, 'spec.securityContext', errs);
    const fsGroup = r.int(psc.fsGroup, 'PodSecurityContext.fsGroup');
    if (fsGroup !== undefined && (fsGroup < 0 || fsGroup > 2147483647)) errs.push({ type: 'Invalid', field: 'spec.securityContext.fsGroup', value: fsGroup, detail: 'must be between 0 and 2147483647, inclusive' });
    r.arr(psc.supplementalGroups, 'PodSecurityContext.supplementalGroups').forEach((g) => r.int(g, 'PodSecurityContext.supplementalGroups'));
  }
  r.bool(spec.automountServiceAccountToken, 'PodSpec.spec.automountServiceAccountToken');
  r.bool(spec.enableServiceLinks, 'PodSpec.spec.enableServiceLinks');
  const sa = r.str(spec.serviceAccountName, 'PodSpec.spec.serviceAccountName');
  if (sa) push(errs, 'spec.serviceAccountName', sa, dns1123Subdomain(sa));
  const hostname = r.str(spec.hostname, 'PodSpec.spec.hostname');
  if (hostname) push(errs, 'spec.hostname', hostname, dns1123Label(hostname));
}

/** Pod fields the API server allows to change on a running pod (the rest is immutable). */
export function podSpecUpdateErrors(oldSpec: unknown, newSpec: unknown): FieldError[] {
  const strip = (s: unknown): unknown => {
    if (!isRecord(s)) return s;
    const { activeDeadlineSeconds: _a, tolerations: _t, terminationGracePeriodSeconds: _g, nodeName: _n, ...rest } = s;
    return rest;
  };
  if (deepEqual(strip(oldSpec), strip(newSpec))) return [];
  return [
    {
      type: 'Forbidden',
      field: 'spec',
      detail:
        'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    },
  ];
}

/**
 * A pod feature the emulator does not run (so a test would pass or fail for the wrong reason):
 * the pod is refused with 501 and the reason recorded. Features that change nothing on a single
 * node without a network policy engine (tolerations, priorities...) are accepted and ignored.
 */
export function podUnsupported(spec: Obj): string | undefined {
  const has = (v: unknown): boolean => v !== undefined && v !== null && v !== false && !(Array.isArray(v) && v.length === 0);
  const podFields: Record<string, string> = {
    initContainers: 'init containers',
    ephemeralContainers: 'ephemeral containers',
    affinity: 'affinity (use nodeSelector)',
    hostNetwork: 'hostNetwork',
    hostPID: 'hostPID',
    hostIPC: 'hostIPC',
    shareProcessNamespace: 'shareProcessNamespace',
    dnsConfig: 'dnsConfig',
    readinessGates: 'readinessGates',
    runtimeClassName: 'runtimeClassName',
    schedulingGates: 'schedulingGates',
    resourceClaims: 'resourceClaims',
    resources: 'pod-level resources',
    activeDeadlineSeconds: 'activeDeadlineSeconds',
  };
  for (const [f, what] of Object.entries(podFields)) if (has(spec[f])) return `pod spec.${f} (${what})`;
  if (spec.hostUsers === false) return 'pod spec.hostUsers=false (user namespaces)';
  const psc = isRecord(spec.securityContext) ? spec.securityContext : {};
  for (const f of ['sysctls', 'seLinuxOptions', 'seLinuxChangePolicy']) if (has(psc[f])) return `pod spec.securityContext.${f}`;
  if (isRecord(psc.seccompProfile) && psc.seccompProfile.type === 'Localhost') return 'seccompProfile type Localhost';
  if (isRecord(psc.appArmorProfile) && psc.appArmorProfile.type === 'Localhost') return 'appArmorProfile type Localhost';
  const volumes = Array.isArray(spec.volumes) ? spec.volumes.filter(isRecord) : [];
  for (const v of volumes) {
    const type = VOLUME_TYPES.find((t) => v[t] !== undefined && v[t] !== null);
    if (type && !['emptyDir', 'persistentVolumeClaim', 'secret', 'configMap', 'hostPath'].includes(type)) return `volume type ${type} (volume ${String(v.name)})`;
    if (isRecord(v.emptyDir) && typeof v.emptyDir.medium === 'string' && v.emptyDir.medium.startsWith('HugePages')) return 'emptyDir medium HugePages';
  }
  const memoryVolumes = new Set(volumes.filter((v) => isRecord(v.emptyDir) && v.emptyDir.medium === 'Memory').map((v) => String(v.name)));
  const containers = Array.isArray(spec.containers) ? spec.containers.filter(isRecord) : [];
  const containerFields: Record<string, string> = {
    lifecycle: 'lifecycle hooks',
    livenessProbe: 'liveness probes',
    readinessProbe: 'readiness probes',
    startupProbe: 'startup probes',
    volumeDevices: 'volumeDevices',
    restartPolicy: 'container restartPolicy (sidecars)',
  };
  for (const c of containers) {
    const where = `container ${String(c.name)}`;
    for (const [f, what] of Object.entries(containerFields)) if (has(c[f])) return `${what} (${where})`;
    const sc = isRecord(c.securityContext) ? c.securityContext : {};
    for (const f of ['seLinuxOptions', 'windowsOptions']) if (has(sc[f])) return `securityContext.${f} (${where})`;
    if (sc.procMount !== undefined && sc.procMount !== 'Default') return `securityContext.procMount ${text(sc.procMount)} (${where})`;
    if (isRecord(sc.seccompProfile) && sc.seccompProfile.type === 'Localhost') return `seccompProfile type Localhost (${where})`;
    if (isRecord(sc.appArmorProfile) && sc.appArmorProfile.type === 'Localhost') return `appArmorProfile type Localhost (${where})`;
    for (const port of Array.isArray(c.ports) ? c.ports.filter(isRecord) : []) {
      if (has(port.hostPort)) return `hostPort ${String(port.hostPort)} (${where})`;
      if (has(port.hostIP)) return `hostIP (${where})`;
    }
    const limits = isRecord(c.resources) && isRecord(c.resources.limits) ? c.resources.limits : {};
    for (const k of Object.keys(limits)) if (!['cpu', 'memory', 'ephemeral-storage'].includes(k)) return `resource limit ${k} (${where})`;
    for (const m of Array.isArray(c.volumeMounts) ? c.volumeMounts.filter(isRecord) : []) {
      if (has(m.subPathExpr)) return `volumeMounts subPathExpr (${where})`;
      if (m.mountPropagation !== undefined && m.mountPropagation !== 'None') return `mountPropagation ${text(m.mountPropagation)} (${where})`;
      if (m.recursiveReadOnly !== undefined && m.recursiveReadOnly !== 'Disabled') return `recursiveReadOnly (${where})`;
      if (has(m.subPath) && memoryVolumes.has(String(m.name))) return `subPath of an emptyDir with medium Memory (${where})`;
    }
    for (const e of Array.isArray(c.env) ? c.env.filter(isRecord) : []) {
      const from = isRecord(e.valueFrom) ? e.valueFrom : {};
      if (has(from.resourceFieldRef)) return `env valueFrom.resourceFieldRef (${where})`;
      if (has(from.fileKeyRef)) return `env valueFrom.fileKeyRef (${where})`;
      if (isRecord(from.fieldRef)) {
        const path = String(from.fieldRef.fieldPath);
        if (!/^(metadata\.(name|namespace|uid)|spec\.(nodeName|serviceAccountName)|metadata\.(labels|annotations)\['[^']+'\])$/.test(path)) return `env valueFrom.fieldRef ${path} (${where})`;
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Services, secrets, config maps, PVCs, namespaces, network policies

function validateService(r: Reader, o: KubeObject, errs: FieldError[]): void {
  const spec = r.obj(o.spec, 'Service.spec') ?? {};
  const type = r.str(spec.type, 'ServiceSpec.spec.type') ?? 'ClusterIP';
  const types = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
  if (!types.includes(type)) errs.push({ type: 'NotSupported', field: 'spec.type', value: type, supported: types });
  const clusterIP = r.str(spec.clusterIP, 'ServiceSpec.spec.clusterIP');
  if (clusterIP !== undefined && clusterIP !== '' && clusterIP !== 'None' && !isIPAddress(clusterIP)) errs.push({ type: 'Invalid', field: 'spec.clusterIPs[0]', value: clusterIP, detail: 'must be empty, \'None\', or a valid IP address' });
  const ports = r.objs(spec.ports, 'ServiceSpec.spec.ports');
  if (ports.length === 0 && type !== 'ExternalName' && clusterIP !== 'None') errs.push({ type: 'Required', field: 'spec.ports' });
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = `spec.ports[${i}]`;
    const name = r.str(port.name, 'ServicePort.spec.ports.name');
    if (ports.length > 1 && !name) errs.push({ type: 'Required', field: `${p}.name` });
    if (name) {
      push(errs, `${p}.name`, name, dns1123Label(name));
      if (names.has(name)) errs.push({ type: 'Duplicate', field: `${p}.name`, value: name });
      names.add(name);
    }
    const n = r.int(port.port, 'ServicePort.spec.ports.port');
    if (n === undefined || !validPort(n)) errs.push({ type: 'Invalid', field: `${p}.port`, value: n ?? 0, detail: 'must be between 1 and 65535, inclusive' });
    const proto = r.str(port.protocol, 'ServicePort.spec.ports.protocol');
    if (proto !== undefined && !PROTOCOLS.includes(proto)) errs.push({ type: 'NotSupported', field: `${p}.protocol`, value: proto, supported: PROTOCOLS });
    const target = r.intOrString(port.targetPort, 'ServicePort.spec.ports.targetPort');
    if (typeof target === 'number' && !validPort(target)) errs.push({ type: 'Invalid', field: `${p}.targetPort`, value: target, detail: 'must be between 1 and 65535, inclusive' });
    if (typeof target === 'string' && target !== '') push(errs, `${p}.targetPort`, target, portName(target));
  });
  for (const [k, v] of Object.entries(r.strMap(spec.selector, 'ServiceSpec.spec.selector'))) {
    push(errs, 'spec.selector', k, qualifiedName(k));
    push(errs, 'spec.selector', v, labelValue(v));
  }
  const affinity = r.str(spec.sessionAffinity, 'ServiceSpec.spec.sessionAffinity');
  if (affinity !== undefined && !['ClientIP', 'None'].includes(affinity)) errs.push({ type: 'NotSupported', field: 'spec.sessionAffinity', value: affinity, supported: ['ClientIP', 'None'] });
}

function decodeBase64(r: Reader, v: unknown, path: string): Buffer {
  const s = r.str(v, path) ?? '';
  const clean = s.replace(/\s/g, '');
  const at = /[^A-Za-z0-9+/=]/.exec(clean)?.index;
  const badPadding = clean.length % 4 !== 0 || /=[^=]/.test(clean);
  if (at !== undefined || badPadding) {
    throw badRequest(`${r.def.kind} in version "v1" cannot be handled as a ${r.def.kind}: illegal base64 data at input byte ${at ?? Math.max(0, clean.length - (clean.length % 4 || 4))}`);
  }
  return Buffer.from(clean, 'base64');
}

function validateData(r: Reader, o: KubeObject, errs: FieldError[], old?: KubeObject): void {
  const isSecret = r.def.kind === 'Secret';
  const data = r.obj(o.data, `${r.def.kind}.data`) ?? {};
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    push(errs, `data[${k}]`, k, configKey(k));
    size += k.length + (isSecret ? decodeBase64(r, v, `${r.def.kind}.data`).length : (r.str(v, 'ConfigMap.data') ?? '').length);
  }
  if (!isSecret) {
    for (const [k, v] of Object.entries(r.obj(o.binaryData, 'ConfigMap.binaryData') ?? {})) {
      push(errs, `binaryData[${k}]`, k, configKey(k));
      if (k in data) errs.push({ type: 'Invalid', field: `binaryData[${k}]`, value: k, detail: 'duplicate of key present in data' });
      size += k.length + decodeBase64(r, v, 'ConfigMap.binaryData').length;
    }
  }
  if (size > 1024 * 1024) errs.push({ type: 'TooLong', field: isSecret ? 'data' : '', detail: 'may not be more than 1048576 bytes' });
  if (isSecret) {
    const type = r.str(o.type, 'Secret.type') ?? 'Opaque';
    const need: Record<string, string[]> = {
      'kubernetes.io/tls': ['tls.crt', 'tls.key'],
      'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
      'kubernetes.io/dockercfg': ['.dockercfg'],
      'kubernetes.io/basic-auth': [],
      'kubernetes.io/ssh-auth': ['ssh-privatekey'],
    };
    for (const k of need[type] ?? []) if (!(k in data)) errs.push({ type: 'Required', field: `data[${k}]` });
    if (old && old.type !== o.type) errs.push({ type: 'Invalid', field: 'type', value: o.type, detail: 'field is immutable' });
  }
  r.bool(o.immutable, `${r.def.kind}.immutable`);
  if (old && old.immutable === true) {
    if (!deepEqual(old.data, o.data)) errs.push({ type: 'Forbidden', field: 'data', detail: 'field is immutable when `immutable` is set' });
    if (!isSecret && !deepEqual(old.binaryData, o.binaryData)) errs.push({ type: 'Forbidden', field: 'binaryData', detail: 'field is immutable when `immutable` is set' });
    if (o.immutable !== true) errs.push({ type: 'Forbidden', field: 'immutable', detail: 'field is immutable when `immutable` is set' });
  }
}

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];

function validatePvc(r: Reader, o: KubeObject, errs: FieldError[], old?: KubeObject): void {
  const spec = r.obj(o.spec, 'PersistentVolumeClaim.spec') ?? {};
  const modes = r.strs(spec.accessModes, 'PersistentVolumeClaimSpec.spec.accessModes');
  if (modes.length === 0) errs.push({ type: 'Required', field: 'spec.accessModes', detail: 'at least 1 access mode is required' });
  modes.forEach((m) => {
    if (!ACCESS_MODES.includes(m)) errs.push({ type: 'NotSupported', field: 'spec.accessModes', value: m, supported: ACCESS_MODES });
  });
  const res = r.obj(spec.resources, 'PersistentVolumeClaimSpec.spec.resources') ?? {};
  const requests = r.obj(res.requests, 'VolumeResourceRequirements.requests') ?? {};
  const storage = r.quantity(requests.storage, 'spec.resources.requests[storage]');
  if (storage === undefined) errs.push({ type: 'Required', field: 'spec.resources[storage]' });
  else if (storage <= 0) errs.push({ type: 'Invalid', field: 'spec.resources.requests[storage]', value: requests.storage, detail: 'must be greater than zero' });
  const vm = r.str(spec.volumeMode, 'PersistentVolumeClaimSpec.spec.volumeMode');
  if (vm !== undefined && !['Block', 'Filesystem'].includes(vm)) errs.push({ type: 'NotSupported', field: 'spec.volumeMode', value: vm, supported: ['Block', 'Filesystem'] });
  if (old && isRecord(old.spec)) {
    const strip = (s: unknown): unknown => (isRecord(s) ? { ...s, resources: undefined } : s);
    if (!deepEqual(strip(old.spec), strip(spec)))
      errs.push({ type: 'Forbidden', field: 'spec', detail: 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims' });
    const oldStorage = isRecord(old.spec.resources) && isRecord(old.spec.resources.requests) ? parseQuantity(old.spec.resources.requests.storage) : undefined;
    if (storage !== undefined && oldStorage !== undefined && storage < oldStorage)
      errs.push({ type: 'Forbidden', field: 'spec.resources.requests.storage', detail: 'field can not be less than status.capacity' });
  }
}

const POLICY_TYPES = ['Egress', 'Ingress'];

function validatePeers(r: Reader, peers: Obj[], path: string, errs: FieldError[]): void {
  peers.forEach((peer, i) => {
    const p = `${path}[${i}]`;
    const pod = r.obj(peer.podSelector, 'NetworkPolicyPeer.podSelector');
    const ns = r.obj(peer.namespaceSelector, 'NetworkPolicyPeer.namespaceSelector');
    const block = r.obj(peer.ipBlock, 'NetworkPolicyPeer.ipBlock');
    if (!pod && !ns && !block) errs.push({ type: 'Required', field: p, detail: 'must specify a peer' });
    if (block && (pod || ns)) errs.push({ type: 'Forbidden', field: p, detail: 'may not specify both ipBlock and another peer' });
    validateSelectorObject(r, pod, `${p}.podSelector`, errs);
    validateSelectorObject(r, ns, `${p}.namespaceSelector`, errs);
    if (block) {
      const cidr = r.str(block.cidr, 'IPBlock.cidr') ?? '';
      if (!cidr) errs.push({ type: 'Required', field: `${p}.ipBlock.cidr` });
      else if (!parseCidr(cidr)) errs.push({ type: 'Invalid', field: `${p}.ipBlock.cidr`, value: cidr, detail: 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)' });
      r.strs(block.except, 'IPBlock.except').forEach((ex, j) => {
        if (!parseCidr(ex)) errs.push({ type: 'Invalid', field: `${p}.ipBlock.except[${j}]`, value: ex, detail: 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)' });
        else if (parseCidr(cidr) && !cidrStrictlyWithin(ex, cidr)) errs.push({ type: 'Invalid', field: `${p}.ipBlock.except[${j}]`, value: ex, detail: 'must be a strict subset of `cidr`' });
      });
    }
  });
}

function validatePolicyPorts(r: Reader, ports: Obj[], path: string, errs: FieldError[]): void {
  ports.forEach((port, i) => {
    const p = `${path}[${i}]`;
    const proto = r.str(port.protocol, 'NetworkPolicyPort.protocol');
    if (proto !== undefined && !PROTOCOLS.includes(proto)) errs.push({ type: 'NotSupported', field: `${p}.protocol`, value: proto, supported: PROTOCOLS });
    const n = r.intOrString(port.port, 'NetworkPolicyPort.port');
    if (typeof n === 'number' && !validPort(n)) errs.push({ type: 'Invalid', field: `${p}.port`, value: n, detail: 'must be between 1 and 65535, inclusive' });
    if (typeof n === 'string') push(errs, `${p}.port`, n, portName(n));
    const end = r.int(port.endPort, 'NetworkPolicyPort.endPort');
    if (end !== undefined) {
      if (typeof n !== 'number') errs.push({ type: 'Required', field: `${p}.port`, detail: 'must be specified when endPort is specified' });
      else if (end < n) errs.push({ type: 'Invalid', field: `${p}.endPort`, value: end, detail: 'must be greater than or equal to `port`' });
    }
  });
}

function validateNetworkPolicy(r: Reader, o: KubeObject, errs: FieldError[]): void {
  const spec = r.obj(o.spec, 'NetworkPolicy.spec') ?? {};
  validateSelectorObject(r, r.obj(spec.podSelector, 'NetworkPolicySpec.podSelector'), 'spec.podSelector', errs);
  r.objs(spec.ingress, 'NetworkPolicySpec.ingress').forEach((rule, i) => {
    validatePolicyPorts(r, r.objs(rule.ports, 'NetworkPolicyIngressRule.ports'), `spec.ingress[${i}].ports`, errs);
    validatePeers(r, r.objs(rule.from, 'NetworkPolicyIngressRule.from'), `spec.ingress[${i}].from`, errs);
  });
  r.objs(spec.egress, 'NetworkPolicySpec.egress').forEach((rule, i) => {
    validatePolicyPorts(r, r.objs(rule.ports, 'NetworkPolicyEgressRule.ports'), `spec.egress[${i}].ports`, errs);
    validatePeers(r, r.objs(rule.to, 'NetworkPolicyEgressRule.to'), `spec.egress[${i}].to`, errs);
  });
  const types = r.strs(spec.policyTypes, 'NetworkPolicySpec.policyTypes');
  if (types.length > 2) errs.push({ type: 'Invalid', field: 'spec.policyTypes', value: types, detail: 'may not specify more than two policyTypes' });
  types.forEach((t, i) => {
    if (!POLICY_TYPES.includes(t)) errs.push({ type: 'NotSupported', field: `spec.policyTypes[${i}]`, value: t, supported: POLICY_TYPES });
  });
}

function validateEvent(r: Reader, o: KubeObject, errs: FieldError[]): void {
  const inv = r.obj(o.involvedObject, 'Event.involvedObject') ?? {};
  const ns = r.str(inv.namespace, 'ObjectReference.involvedObject.namespace');
  if (ns && ns !== o.metadata.namespace) errs.push({ type: 'Invalid', field: 'involvedObject.namespace', value: ns, detail: 'does not match event.namespace' });
  r.str(o.reason, 'Event.reason');
  r.str(o.message, 'Event.message');
  const type = r.str(o.type, 'Event.type');
  if (type !== undefined && !['Normal', 'Warning'].includes(type)) errs.push({ type: 'NotSupported', field: 'type', value: type, supported: ['Normal', 'Warning'] });
}

/** Validates an object about to be created (old undefined) or to replace `old`. Throws on errors. */
export function validateObject(def: ResourceDef, o: KubeObject, old?: KubeObject): void {
  const r = new Reader(def);
  const errs: FieldError[] = [];
  validateMeta(r, def, o, errs);
  switch (def.kind) {
    case 'Pod':
      validatePod(r, o, errs);
      if (old) errs.push(...podSpecUpdateErrors(old.spec, o.spec));
      break;
    case 'Service':
      validateService(r, o, errs);
      if (old && isRecord(old.spec) && isRecord(o.spec) && old.spec.clusterIP !== undefined && o.spec.clusterIP !== undefined && old.spec.clusterIP !== o.spec.clusterIP)
        errs.push({ type: 'Invalid', field: 'spec.clusterIPs[0]', value: o.spec.clusterIP, detail: 'may not change once set' });
      break;
    case 'Secret':
    case 'ConfigMap':
      validateData(r, o, errs, old);
      break;
    case 'PersistentVolumeClaim':
      validatePvc(r, o, errs, old);
      break;
    case 'NetworkPolicy':
      validateNetworkPolicy(r, o, errs);
      break;
    case 'Event':
      validateEvent(r, o, errs);
      break;
    default:
      break;
  }
  if (old) {
    for (const f of ['name', 'namespace', 'uid', 'creationTimestamp'] as const) {
      if (o.metadata[f] !== undefined && old.metadata[f] !== o.metadata[f]) errs.push({ type: 'Invalid', field: `metadata.${f}`, value: o.metadata[f], detail: 'field is immutable' });
    }
  }
  if (errs.length > 0) {
    throw invalid(def.kind, def.group, o.metadata.name || (o.metadata.generateName ?? ''), errs);
  }
}

// ---------------------------------------------------------------------------------------------
// Defaults, as the API server's defaulting and admission fill them in.

function imagePullDefault(image: string): string {
  const last = image.split('/').pop() ?? image;
  if (last.includes('@')) return 'IfNotPresent';
  const tag = last.includes(':') ? last.slice(last.lastIndexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function qosClass(containers: Obj[]): string {
  let anyReq = false;
  let guaranteed = true;
  for (const c of containers) {
    const res = isRecord(c.resources) ? c.resources : {};
    const lim = isRecord(res.limits) ? res.limits : {};
    const req = isRecord(res.requests) ? res.requests : {};
    if (Object.keys(lim).length || Object.keys(req).length) anyReq = true;
    for (const k of ['cpu', 'memory']) {
      const l = parseQuantity(lim[k]);
      const q = req[k] === undefined ? l : parseQuantity(req[k]);
      if (l === undefined || q !== l) guaranteed = false;
    }
  }
  if (!anyReq) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function applyDefaults(def: ResourceDef, o: KubeObject): void {
  switch (def.kind) {
    case 'Pod': {
      const spec = isRecord(o.spec) ? o.spec : {};
      o.spec = spec;
      spec.restartPolicy ??= 'Always';
      spec.terminationGracePeriodSeconds ??= 30;
      spec.dnsPolicy ??= 'ClusterFirst';
      spec.schedulerName ??= 'default-scheduler';
      spec.securityContext ??= {};
      spec.enableServiceLinks ??= true;
      spec.serviceAccountName ??= typeof spec.serviceAccount === 'string' ? spec.serviceAccount : 'default';
      spec.serviceAccount ??= spec.serviceAccountName;
      spec.priority ??= 0;
      spec.preemptionPolicy ??= 'PreemptLowerPriority';
      const containers = Array.isArray(spec.containers) ? spec.containers.filter(isRecord) : [];
      for (const c of containers) {
        c.terminationMessagePath ??= '/dev/termination-log';
        c.terminationMessagePolicy ??= 'File';
        c.imagePullPolicy ??= imagePullDefault(String(c.image));
        c.resources ??= {};
        const res = c.resources as Obj;
        // Requests default to limits, as the API server does.
        if (isRecord(res.limits)) res.requests = { ...res.limits, ...(isRecord(res.requests) ? res.requests : {}) };
        if (Array.isArray(c.ports)) for (const p of c.ports.filter(isRecord)) p.protocol ??= 'TCP';
      }
      if (Array.isArray(spec.volumes)) {
        for (const v of spec.volumes.filter(isRecord)) {
          if (isRecord(v.secret)) v.secret.defaultMode ??= 0o644;
          if (isRecord(v.configMap)) v.configMap.defaultMode ??= 0o644;
          if (isRecord(v.hostPath)) v.hostPath.type ??= '';
        }
      }
      o.status = { phase: 'Pending', qosClass: qosClass(containers) };
      break;
    }
    case 'Service': {
      const spec = isRecord(o.spec) ? o.spec : {};
      o.spec = spec;
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      spec.internalTrafficPolicy ??= 'Cluster';
      if (Array.isArray(spec.ports)) {
        for (const p of spec.ports.filter(isRecord)) {
          p.protocol ??= 'TCP';
          p.targetPort ??= p.port;
        }
      }
      o.status ??= { loadBalancer: {} };
      break;
    }
    case 'Secret': {
      o.type ??= 'Opaque';
      if (isRecord(o.stringData)) {
        const data = isRecord(o.data) ? o.data : {};
        for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
        o.data = data;
      }
      delete o.stringData;
      break;
    }
    case 'PersistentVolumeClaim': {
      const spec = isRecord(o.spec) ? o.spec : {};
      o.spec = spec;
      spec.volumeMode ??= 'Filesystem';
      spec.storageClassName ??= 'standard';
      break;
    }
    case 'Namespace': {
      o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name };
      o.spec = { finalizers: ['kubernetes'] };
      o.status = { phase: 'Active' };
      break;
    }
    case 'NetworkPolicy': {
      const spec = isRecord(o.spec) ? o.spec : {};
      o.spec = spec;
      spec.podSelector ??= {};
      if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) spec.policyTypes = Array.isArray(spec.egress) && spec.egress.length ? ['Ingress', 'Egress'] : ['Ingress'];
      for (const rules of [spec.ingress, spec.egress]) {
        if (!Array.isArray(rules)) continue;
        for (const rule of rules.filter(isRecord)) if (Array.isArray(rule.ports)) for (const p of rule.ports.filter(isRecord)) p.protocol ??= 'TCP';
      }
      o.metadata.generation ??= 1;
      break;
    }
    default:
      break;
  }
}

/** A decode error for a body that is not an object of the URL's kind and version. */
export function checkKindAndVersion(def: ResourceDef, body: unknown): asserts body is Obj {
  const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
  if (!isRecord(body)) throw badRequest(`the object provided is unrecognized (must be of type ${def.kind}): couldn't get version/kind; json parse error: body is not a JSON object`);
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
    throw badRequest(`the API version in the data (${text(body.apiVersion)}) does not match the expected API version (${apiVersion})`);
  }
  if (body.kind !== undefined && body.kind !== def.kind) {
    throw badRequest(`${text(body.kind)} in version "${def.version}" cannot be handled as a ${def.kind}: the kind in the body does not match the resource of the URL`);
  }
  if (body.metadata !== undefined && !isRecord(body.metadata)) throw decodeError(def, `${def.kind}.metadata`, body.metadata, 'v1.ObjectMeta');
}

/** Service features the emulator cannot honour (see the header of index.ts). */
export function serviceUnsupported(o: KubeObject): string | undefined {
  const spec = isRecord(o.spec) ? o.spec : {};
  if (spec.type !== undefined && spec.type !== 'ClusterIP') return `service type ${text(spec.type)} (only ClusterIP and headless services are emulated)`;
  for (const p of Array.isArray(spec.ports) ? spec.ports.filter(isRecord) : []) {
    if (typeof p.targetPort === 'number' && p.targetPort !== p.port) return `service port ${String(p.port)} -> targetPort ${p.targetPort} (pods are reached on their own ports; the emulator does not remap)`;
  }
  if (Array.isArray(spec.externalIPs) && spec.externalIPs.length) return 'service externalIPs';
  return undefined;
}
