import { toBinary, type DescFile, type DescService } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import * as v1 from '../gen/grpc/reflection/v1/reflection_pb';
import * as v1alpha from '../gen/grpc/reflection/v1alpha/reflection_pb';

/** gRPC's NOT_FOUND, for reflection's in-band error responses. */
const notFoundCode = 5;

/**
 * Answers server reflection from the protobuf-es descriptors of the services
 * a server hosts, so `buf curl` and grpcurl can list and call its methods
 * with no .proto files at hand. Files are sent with all their dependencies.
 */
export class ReflectionIndex {
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();
  readonly serviceNames: string[] = [];

  add(service: DescService): void {
    this.serviceNames.push(service.typeName);
    this.addFile(service.file);
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.name + '.proto')) return;
    this.files.set(file.name + '.proto', file);
    for (const m of file.messages) this.indexMessage(m, file);
    for (const e of file.enums) this.symbols.set(e.typeName, file);
    for (const s of file.services) {
      this.symbols.set(s.typeName, file);
      for (const m of s.methods) this.symbols.set(`${s.typeName}.${m.name}`, file);
    }
    for (const d of file.dependencies) this.addFile(d);
  }

  private indexMessage(m: DescFile['messages'][number], file: DescFile): void {
    this.symbols.set(m.typeName, file);
    for (const n of m.nestedMessages) this.indexMessage(n, file);
    for (const e of m.nestedEnums) this.symbols.set(e.typeName, file);
  }

  /** Serialized descriptors of `file` and everything it imports, the file first. */
  private withDependencies(file: DescFile): Uint8Array[] {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (f: DescFile) => {
      if (seen.has(f.name)) return;
      seen.add(f.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      f.dependencies.forEach(visit);
    };
    visit(file);
    return out;
  }

  /** The answer to one reflection request, in the shape both API versions share. */
  answer(req: v1.ServerReflectionRequest | v1alpha.ServerReflectionRequest): Record<string, unknown> {
    const r = req.messageRequest;
    const files = (f: DescFile | undefined, what: string) =>
      f
        ? { case: 'fileDescriptorResponse', value: { fileDescriptorProto: this.withDependencies(f) } }
        : { case: 'errorResponse', value: { errorCode: notFoundCode, errorMessage: `${what} not found` } };
    switch (r.case) {
      case 'listServices':
        return { case: 'listServicesResponse', value: { service: this.serviceNames.map((name) => ({ name })) } };
      case 'fileByFilename':
        return files(this.files.get(r.value), `file ${r.value}`);
      case 'fileContainingSymbol':
        return files(this.symbols.get(r.value), `symbol ${r.value}`);
      case 'allExtensionNumbersOfType':
        return { case: 'allExtensionNumbersResponse', value: { baseTypeName: r.value, extensionNumber: [] } };
      default:
        return { case: 'errorResponse', value: { errorCode: notFoundCode, errorMessage: 'extensions are not indexed' } };
    }
  }

  /** Implementations of both reflection versions over this index. */
  services(): { v1: ServiceImpl<typeof v1.ServerReflection>; v1alpha: ServiceImpl<typeof v1alpha.ServerReflection> } {
    const answer = (req: v1.ServerReflectionRequest | v1alpha.ServerReflectionRequest) => this.answer(req);
    async function* serve<R extends v1.ServerReflectionRequest | v1alpha.ServerReflectionRequest>(reqs: AsyncIterable<R>) {
      for await (const req of reqs) {
        yield { validHost: req.host, originalRequest: req, messageResponse: answer(req) } as never;
      }
    }
    return {
      v1: { serverReflectionInfo: (reqs) => serve(reqs) },
      v1alpha: { serverReflectionInfo: (reqs) => serve(reqs) },
    };
  }
}

export { v1, v1alpha };
