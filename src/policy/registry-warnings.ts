/**
 * Where the CLI collects the package registry groups' warnings that nobody printed earlier, to
 * print them once at the end of a command. Kept free of imports so that loading it costs
 * nothing: the resolver registers itself here only when a command made one.
 */
const sources = new Set<() => string[]>();

export function registerWarningSource(take: () => string[]): void {
  sources.add(take);
}

/** Each warning once: what a source hands out here is never handed out again. */
export function takeRegistryWarnings(): string[] {
  return [...sources].flatMap((take) => take());
}
