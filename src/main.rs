//! The C entry point and the panic handler; everything else is in the lib.
#![no_std]
#![no_main]

use core::ffi::{c_char, c_int};

/// Called by musl's crt start-up.
#[no_mangle]
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: the C runtime passes argc valid strings that live forever.
    let args = unsafe { pinit::sys::Args::from_raw(argc, argv) };
    pinit::cli::main(args)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    pinit::boot::panic::handle(info)
}
