// The bytes of a base64-encoded WebAssembly module (the generated files hold
// them as text, so that the package needs no loader for binary files).

declare function atob(data: string): string;

/** Decodes base64 text to bytes. */
export function decodeBase64(base64: string): Uint8Array {
  const raw = atob(base64);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}
