/** A migration could not be applied or the recorded history disagrees with the files. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

/** An applied migration's file was edited after it ran. Never re-run or silently accepted. */
export class MigrationChecksumError extends MigrationError {
  constructor(
    readonly file: string,
    readonly target: string,
  ) {
    super(
      `Migration ${file} of ${target} was edited after it was applied (checksum mismatch). ` +
        'Restore the file as it was and put the change in a new numbered migration.',
    );
  }
}

/** A file's SQL failed; its transaction was rolled back, so nothing of it was applied. */
export class MigrationFailedError extends MigrationError {
  constructor(
    readonly file: string,
    readonly target: string,
    cause: unknown,
  ) {
    super(`Migration ${file} of ${target} failed and was rolled back: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
