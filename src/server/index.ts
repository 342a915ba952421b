/** `charter/server`: what `charter serve` runs: status lists, did:web documents, the agents' key directory, the consent page. */
export { serveHome, type ServeOptions, type RunningServer } from './serve.js';
export { agentDirectory, signatureAgentOf } from './directory.js';
export { publishHome, type PublishedHome } from './publish.js';
