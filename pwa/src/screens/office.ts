/**
 * The admin screens and the import & export screen, loaded on demand as one chunk.
 *
 * One chunk, not two: with a third dynamic import in the entry, Rolldown 1.2 moves the
 * modules the entry already loads into a separate shared chunk (rolldown/rolldown#10731),
 * which makes the first screen load two files and more bytes. The export screen costs reps
 * and managers the admin code (about 3 kB gzipped), and only when they open it.
 */
export { Admin } from "./Admin";
export { ImportExport } from "./ImportExport";
