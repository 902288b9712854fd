// Names from a file (zip entries, storage keys, tensor names, globals) as they appear in error
// messages: quoted, control characters escaped and long names cut, so a message stays one line.
const MAX_SHOWN = 200;

export function quote(name: string): string {
  const shown = name.length > MAX_SHOWN ? `${name.slice(0, MAX_SHOWN)}…` : name;
  // eslint-disable-next-line no-control-regex
  return `'${shown.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}'`;
}
