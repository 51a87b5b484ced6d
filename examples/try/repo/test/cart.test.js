import test from 'node:test';
import assert from 'node:assert/strict';
import { total } from '../src/cart.js';

test('an empty cart costs nothing', () => {
  assert.equal(total([]), 0);
});

test('a line costs its price times its quantity', () => {
  assert.equal(total([{ price: 400, quantity: 2 }]), 800);
});
