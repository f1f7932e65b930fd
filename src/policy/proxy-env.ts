/** The environment that points the agent's tools at the session proxy. */
/** The agent reaches the proxy through the session link forwarder on its own loopback. */
export const PROXY_HOSTNAME = '127.0.0.1';
export const PROXY_PORT = 3128;
/** The model provider route in the agent (forwarded to the proxy, which adds the API key). */
export const PROVIDER_PORT = 3129;

export function proxyEnvironment(host = PROXY_HOSTNAME, port = PROXY_PORT): Record<string, string> {
  const url = `http://${host}:${port}`;
  const noProxy = 'localhost,127.0.0.1,::1';
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    ALL_PROXY: url,
    all_proxy: url,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
    // The JVM ignores the variables above.
    JAVA_TOOL_OPTIONS: [
      `-Dhttp.proxyHost=${host}`,
      `-Dhttp.proxyPort=${port}`,
      `-Dhttps.proxyHost=${host}`,
      `-Dhttps.proxyPort=${port}`,
      '-Dhttp.nonProxyHosts=localhost|127.0.0.1',
    ].join(' '),
    // Gradle and some Go/Rust tools read these spellings.
    GRADLE_OPTS: `-Dhttp.proxyHost=${host} -Dhttp.proxyPort=${port} -Dhttps.proxyHost=${host} -Dhttps.proxyPort=${port}`,
  };
}
