/**
 * Per-tenant files (DESIGN §4): every tenant has its own root `<storageDir>/tenants/<tenantId>/`,
 * and a handle bound to one tenant can only reach paths inside that root.
 *
 * Paths are relative, `/`-separated names like `invoices/2026/INV-1.pdf`. Refused before any I/O:
 * absolute paths, `..` segments, empty segments, NUL and backslashes. Refused after resolving: a
 * path whose real location (symlinks followed) is outside the tenant's root.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, realpath, rm, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { AppError, ErrorCode } from '../../errors/index.js';
import { UUID_PATTERN } from '../../tenancy/model.js';

/** Files of one tenant. */
export interface TenantFiles {
  read(relativePath: string): Promise<Buffer>;
  /** Writes atomically (temporary file, then rename), creating folders as needed. */
  write(relativePath: string, data: string | Uint8Array): Promise<void>;
  exists(relativePath: string): Promise<boolean>;
  /** Names in a folder (default the root); [] for a folder that does not exist. */
  list(relativeDir?: string): Promise<string[]>;
  remove(relativePath: string): Promise<void>;
  /** The absolute path of a file, for tools that need one (pg_dump, streams). Checked like the rest. */
  resolve(relativePath: string): Promise<string>;
}

/** The storage of every tenant: hands out bound handles and removes a tenant's whole root. */
export interface TenantFileStore {
  forTenant(tenantId: string): TenantFiles;
  /** Deletes the tenant's root and everything in it (hard delete). Idempotent. */
  removeTenant(tenantId: string): Promise<void>;
}

const SEGMENT = /^[^/\\\0]+$/;

export class PathRefusedError extends AppError {
  constructor(relativePath: string, why: string) {
    super(ErrorCode.BAD_USER_INPUT, `File path ${JSON.stringify(relativePath.slice(0, 200))} is refused: ${why}`, { details: { field: 'path' } });
  }
}

/**
 * Local-disk storage under `<storageDir>/tenants/`.
 * @param storageDir root of all storage; default STORAGE_DIR = `storage`
 */
export function makeLocalTenantFileStore(storageDir: string): TenantFileStore {
  const tenantsRoot = path.resolve(storageDir, 'tenants');
  const rootOf = (tenantId: string) => {
    // The id names a folder: only a uuid can, so nothing else ever becomes part of a path.
    if (!UUID_PATTERN.test(tenantId)) throw new Error(`tenant files: ${JSON.stringify(tenantId)} is not a tenant id`);
    return path.join(tenantsRoot, tenantId.toLowerCase());
  };
  return {
    forTenant: (tenantId) => new LocalTenantFiles(rootOf(tenantId)),
    removeTenant: (tenantId) => rm(rootOf(tenantId), { recursive: true, force: true }),
  };
}

class LocalTenantFiles implements TenantFiles {
  constructor(private readonly root: string) {}

  async read(relativePath: string): Promise<Buffer> {
    const full = await this.resolve(relativePath);
    try {
      return await readFile(full);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError(ErrorCode.NOT_FOUND, 'File not found');
      throw error;
    }
  }

  async write(relativePath: string, data: string | Uint8Array): Promise<void> {
    const full = await this.resolve(relativePath);
    await mkdir(path.dirname(full), { recursive: true });
    // Folders made just now could not have been symlinks, but a parent that already existed could.
    await this.assertInside(path.dirname(full), relativePath);
    const temporary = `${full}.${createHash('sha1').update(`${process.pid}:${Date.now()}:${Math.random()}`).digest('hex').slice(0, 8)}.tmp`;
    await writeFile(temporary, data, { flag: 'wx' });
    await rename(temporary, full);
  }

  async exists(relativePath: string): Promise<boolean> {
    const full = await this.resolve(relativePath);
    return lstat(full).then(
      () => true,
      () => false,
    );
  }

  async list(relativeDir = ''): Promise<string[]> {
    const full = relativeDir === '' ? this.root : await this.resolve(relativeDir);
    if (relativeDir === '') await mkdir(this.root, { recursive: true });
    try {
      return (await readdir(full)).filter((name) => !name.endsWith('.tmp')).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  async remove(relativePath: string): Promise<void> {
    await rm(await this.resolve(relativePath), { recursive: true, force: true });
  }

  async resolve(relativePath: string): Promise<string> {
    const segments = relativePath.split('/');
    if (relativePath === '' || path.isAbsolute(relativePath) || relativePath.startsWith('/')) throw new PathRefusedError(relativePath, 'it must be relative');
    for (const segment of segments) {
      if (segment === '..' || segment === '.') throw new PathRefusedError(relativePath, '`.` and `..` are not allowed');
      if (!SEGMENT.test(segment)) throw new PathRefusedError(relativePath, 'empty segments, NUL and backslashes are not allowed');
    }
    if (relativePath.length > 1024) throw new PathRefusedError(relativePath, 'it is longer than 1024 characters');
    const full = path.join(this.root, ...segments);
    await mkdir(this.root, { recursive: true });
    await this.assertInside(full, relativePath);
    return full;
  }

  /** The deepest existing ancestor of `full` (itself included) must really be inside the root. */
  private async assertInside(full: string, relativePath: string): Promise<void> {
    const realRoot = await realpath(this.root);
    let probe = full;
    for (;;) {
      try {
        const real = await realpath(probe);
        if (real !== realRoot && !real.startsWith(realRoot + path.sep)) throw new PathRefusedError(relativePath, 'it leads outside the tenant storage');
        return;
      } catch (error) {
        if (error instanceof PathRefusedError) throw error;
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        // Something is there but cannot be resolved: a dangling symlink, which could point anywhere.
        if (await lstat(probe).then(() => true, () => false)) throw new PathRefusedError(relativePath, 'it is a link that leads nowhere');
        const parent = path.dirname(probe);
        if (parent === probe) return;
        probe = parent;
      }
    }
  }
}
