/**
 * `@dcem/jax`: a `Backend` of `@dcem/core` over jax-js (`@jax-js/jax`), so
 * CEM, DCEM, LML and the planner run on jax-js arrays and differentiate with
 * jax-js's `grad`. See {@link createJaxBackend}.
 *
 * @packageDocumentation
 */
export { createJaxBackend, type JaxBackend, type JaxBackendOptions, type Tensor } from './backend.js';
