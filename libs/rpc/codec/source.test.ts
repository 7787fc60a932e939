import { create, createFileRegistry, fromBinary, toBinary, type DescMessage } from '@bufbuild/protobuf';
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { fastToBinary } from '../fast-binary';
import { fastFromBinary } from '../fast-from-binary';
import { firstDifference } from './same-message';
import { isCovered } from './coverage';
import { member } from './source';

describe('codec source', () => {
  it('emits plain identifiers as property accesses and anything else as string literals', () => {
    expect(member('m', 'taskId')).toBe('m.taskId');
    expect(member('m', 'a"]; throw 1; //')).toBe('m["a\\"]; throw 1; //"]');
  });

  it('builds working codecs for a type whose names are not identifiers, without running them as code', () => {
    // Names no .proto would pass protoc with, straight into a descriptor.
    const hostile = 'x"]=1;globalThis.pwned=1;//';
    const file = create(FileDescriptorProtoSchema, {
      name: 'hostile.proto',
      package: 'hostile',
      syntax: 'proto3',
      messageType: [{
        name: 'M',
        field: [
          { name: hostile, jsonName: hostile, number: 1, type: FieldDescriptorProto_Type.STRING, label: FieldDescriptorProto_Label.OPTIONAL },
          { name: '__proto__', jsonName: '__proto__', number: 2, type: FieldDescriptorProto_Type.INT32, label: FieldDescriptorProto_Label.OPTIONAL },
        ],
      }],
    });
    const desc = createFileRegistry(file, () => undefined).getMessage('hostile.M') as DescMessage;
    expect(isCovered(desc)).toBe(true);
    const bytes = new Uint8Array([0x0a, 0x01, 0x61, 0x10, 0x05]);
    const decoded = fastFromBinary(desc, bytes);
    expect(firstDifference(decoded, fromBinary(desc, bytes))).toBeUndefined();
    expect(Buffer.from(fastToBinary(desc, decoded)).equals(Buffer.from(toBinary(desc, decoded)))).toBe(true);
    expect((globalThis as Record<string, unknown>).pwned).toBeUndefined();
  });
});
