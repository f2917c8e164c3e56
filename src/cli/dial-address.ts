/** A listen address such as 0.0.0.0:9001 is not something to dial: use loopback. */
export function dialAddress(listenAddress: string): string {
  return listenAddress.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '127.0.0.1:');
}
