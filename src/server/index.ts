/** `charter/server`: what `charter serve` runs: status lists, did:web documents, the consent page. */
export { serveHome, type ServeOptions, type RunningServer } from './serve.js';
export { publishHome, type PublishedHome } from './publish.js';
