'use strict';
// The RxDB schema of a benchmark visit record (see bench/data.py).
exports.visitSchema = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 64 },
    customer: { type: 'string' },
    rep: { type: 'string' },
    visited_at: { type: 'string' },
    notes: { type: 'string' },
    gifts: {
      type: 'array',
      items: {
        type: 'object',
        properties: { item: { type: 'string' }, qty: { type: 'integer' }, value: { type: 'string' } },
      },
    },
  },
  required: ['id', 'customer', 'rep', 'visited_at'],
};
