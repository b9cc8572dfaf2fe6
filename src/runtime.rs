//! What `std` would give the component, which is built without it (see the
//! crate root): an allocator, a panic handler, `cabi_realloc` and `memcmp`.

use core::alloc::Layout;

/// Talc, a small allocator for single-threaded WebAssembly, which grows the
/// linear memory as it needs.
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// A panic is a bug, and the call traps on it, as with `std` and
/// `panic = "abort"`; only the message `std` wrote to stderr is gone.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// The canonical ABI's allocator, which the host calls to pass strings and
/// lists in: `std` defines it on `wasm32-wasip2` (and `wit-bindgen` only on
/// other targets), and this is `std`'s. `old_len` 0 asks for new memory (a
/// dangling, aligned pointer when `new_len` is 0 too), anything else
/// resizes `old_ptr`; running out of memory traps.
///
/// # Safety
///
/// `align` is a power of two, and a non-zero `old_len` describes memory
/// this function gave out with that `align`.
#[unsafe(no_mangle)]
unsafe extern "C" fn cabi_realloc(
    old_ptr: *mut u8,
    old_len: usize,
    align: usize,
    new_len: usize,
) -> *mut u8 {
    // SAFETY: the caller keeps the contract above.
    let memory = unsafe {
        if old_len == 0 {
            if new_len == 0 {
                return core::ptr::without_provenance_mut(align);
            }
            alloc::alloc::alloc(Layout::from_size_align_unchecked(new_len, align))
        } else {
            let old = Layout::from_size_align_unchecked(old_len, align);
            alloc::alloc::realloc(old_ptr, old, new_len)
        }
    };
    if memory.is_null() {
        core::arch::wasm32::unreachable()
    }
    memory
}

// `memcmp` from wasi-libc, which `std` would have linked whole: on
// `wasm32-wasip2` the compiler's builtins leave it to the C library.
#[link(name = "c")]
unsafe extern "C" {}
