/**
 * What every kernel source (distro package, prebuilt image, source build) produces,
 * and all the rest of the harness consumes.
 */
import type { KernelIdentity } from '../report/model.js';

export interface KernelArtifact {
  /** bzImage / vmlinuz path given to QEMU's -kernel. */
  image: string;
  /** Kernel release (`uname -r`), e.g. "7.2.13+deb14-amd64". Undefined only for a prebuilt image without modules. */
  release: string | undefined;
  /**
   * Directory holding the modules of this release (the one that contains modules.dep,
   * `kernel/`...), i.e. what goes to /lib/modules/<release> in the guest. Undefined when
   * everything needed is built in.
   */
  modulesDir: string | undefined;
  /** The kernel's .config, when known. */
  config: string | undefined;
  identity: KernelIdentity;
}
