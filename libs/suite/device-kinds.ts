import { DeviceKind, DeviceKindSchema } from '../gen/dtf/common/v1/common_pb';

/**
 * Device kinds by the names suite files use: the enum's value names without
 * their prefix, lower-cased (`DEVICE_KIND_CUDA` is `cuda`).
 */
const byName = new Map<string, DeviceKind>(
  DeviceKindSchema.values
    .filter((v) => v.number !== DeviceKind.UNSPECIFIED)
    .map((v) => [v.localName.toLowerCase(), v.number as DeviceKind]),
);

/** The names a suite file may use, in enum order, for error messages. */
export const deviceKindNames: readonly string[] = [...byName.keys()];

/** The enum value for a name (any case), or `undefined` for a name DTF does not know. */
export function deviceKindByName(name: string): DeviceKind | undefined {
  return byName.get(name.toLowerCase());
}
