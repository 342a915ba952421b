/**
 * `charter/mcp`: Know Your Agent for Model Context Protocol servers. A tool
 * marked as a transaction runs only for an agent whose presentation allows
 * it; a client helper attaches the presentation to each call.
 */
export { guardTool, type ToolGuardOptions, type MandateToolGuardOptions, type ToolExtra, type GuardedToolHandler, type GuardedMandateToolHandler } from './server.js';
export { callGuardedTool, callMandateTool, presentForTool, toolRefusal, toolReceipt, type ToolPresenter, type ToolCall, type ToolCaller } from './client.js';
export { PRESENTATION_META, REFUSAL_META, RECEIPT_META, toolBinding, type ToolRefusal, type ToolSpend } from './binding.js';
export { verifyReceipt } from '../../audit/receipt.js';
export {
  guardTransaction,
  guardMandatePayment,
  type TransactionRequest,
  type TransactionOutcome,
  type TransactionRun,
  type Settlement,
  type MandatePaymentRequest,
  type MandateChain,
} from '../../guard/transaction.js';
export { createVerifier, type Verifier, type VerifierOptions } from '../../guard/verifier.js';
