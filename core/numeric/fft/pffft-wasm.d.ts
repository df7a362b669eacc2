/** Types for the PFFFT WebAssembly build (the package ships none): an Emscripten module factory. */
declare module '@echogarden/pffft-wasm/simd' {
  const factory: (options?: Record<string, unknown>) => Promise<unknown>;
  export default factory;
}
