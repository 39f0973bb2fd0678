/**
 * Every opened resource registers its cleanup here; `releaseAll` runs them in reverse order of
 * registration, each once, logging failures without stopping the others.
 */
export type Release = () => Promise<void> | void;

export class Releasers {
  private readonly stack: { name: string; release: Release }[] = [];

  add(name: string, release: Release): void {
    this.stack.push({ name, release });
  }

  async releaseAll(onError: (name: string, error: unknown) => void = () => {}): Promise<void> {
    while (this.stack.length > 0) {
      const { name, release } = this.stack.pop()!;
      try {
        await release();
      } catch (error) {
        onError(name, error);
      }
    }
  }
}
