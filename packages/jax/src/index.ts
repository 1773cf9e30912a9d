export { createJaxBackend, type JaxBackend, type JaxBackendOptions, type Tensor } from './backend.js';
