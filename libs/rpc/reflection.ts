import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as path from 'node:path';

const protoRoot = path.resolve(__dirname, '../../proto');

let cached: ReflectionService | undefined;

function protoFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return protoFiles(p);
    return e.name.endsWith('.proto') ? [path.relative(protoRoot, p)] : [];
  });
}

/**
 * Adds server reflection (v1 and v1alpha) describing every DTF contract, so
 * stock tools (`buf curl`, grpcurl) can list and call methods.
 */
export function addReflection(server: grpc.Server): void {
  if (!cached) {
    const pkg = protoLoader.loadSync(protoFiles(protoRoot), { includeDirs: [protoRoot], keepCase: true });
    cached = new ReflectionService(pkg);
  }
  try {
    cached.addToServer(server);
  } catch {
    // Already added to this server (listen called twice): nothing to do.
  }
}
