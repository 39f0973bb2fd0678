declare module 'async-exit-hook' {
  type Hook = ((done: () => void) => void) | (() => void);
  interface AsyncExitHook {
    (hook: Hook): void;
    unhookEvent(event: string): void;
    hookedEvents(): string[];
  }
  const add: AsyncExitHook;
  export default add;
}
