/**
 * Thumbprints (RFC 7638) of the example keys published in RFC 9421
 * Appendix B.1, which the Web Bot Auth draft ("Test and Demonstration Keys")
 * asks verifiers to refuse when a key directory serves them: their private
 * halves are public.
 */
export const PUBLISHED_TEST_KEY_THUMBPRINTS: ReadonlySet<string> = new Set([
  'BHj8s0GPnMEQtkaULIM-PLgEhLBbuGUQ1vMxmBWZzEo', // test-key-rsa
  'oD0HwocPBSfpNy5W3bpJeyFGY_IQ_YpqxSjQ3Yd-CLA', // test-key-rsa-pss
  'ydQXMtvbsOsZyFir-Y7A8t7fKEM1gbKPvyFkdpu4fvI', // test-key-ecc-p256
  'poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U', // test-key-ed25519
]);
