// Test function for the emulator's Node.js runtime loop.
let count = 0;
exports.handler = async (event, context) => {
  count += 1;
  if (event && event.action === 'error') throw new TypeError('node handler failed on purpose');
  return { count, requestId: context.awsRequestId, node: process.version, uid: process.getuid(),
           wrapped: process.env.WRAPPED || null, event };
};
