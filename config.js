const key = "AKIAZ3MHJ4XKQ7P2WN5R";
const secret = "q8Xv2Lk9Rt4Wm7Np3Bz6Jh1Fd5Gs0Yc8Ae2Ui4Ko";
const example = "AKIAIOSFODNN7EXAMPLE";
module.exports = { db: "postgres://admin:S3cr3tPassw0rd9@db.internal:5432/app" };
