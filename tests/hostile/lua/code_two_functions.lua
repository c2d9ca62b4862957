-- Two functions and no entry.
function a(df) return {} end
function b(df) return {} end
