package main

import (
	_ "github.com/ThalesGroup/crypto11"
	_ "github.com/ebfe/scard"
	_ "github.com/gin-gonic/gin"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/miekg/pkcs11"
	_ "github.com/stretchr/testify/suite"
	_ "go.temporal.io/sdk/client"
	_ "go.temporal.io/sdk/testsuite"
	_ "golang.org/x/crypto/bcrypt"
	_ "golang.org/x/crypto/ocsp"
)

func main() {}
