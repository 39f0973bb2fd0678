import { userInfo } from 'node:os';

/** Who runs a CLI command, for the audit log: `cli:<os user>`. */
export function operatorLabel(): string {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // no passwd entry (some containers): keep `unknown`
  }
  return `cli:${name}`;
}
